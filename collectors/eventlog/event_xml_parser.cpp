#include "collectors/eventlog/event_xml_parser.h"

#include <charconv>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <pugixml.hpp>
#include <string>

#include "common/core/time.h"

namespace t0w {
namespace {

// ---- text helpers -------------------------------------------------------------------------

// Length of the valid UTF-8 sequence at s[i..n), or 0 when it is invalid (overlong forms,
// surrogates and code points above U+10FFFF are invalid, as in RFC 3629).
size_t validSequence(const unsigned char* s, size_t i, size_t n) {
  const unsigned char c = s[i];
  if (c < 0x80) return 1;
  auto cont = [&](size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const unsigned char c1 = s[i + 1];
    if (c == 0xE0 && c1 < 0xA0) return 0;   // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const unsigned char c1 = s[i + 1];
    if (c == 0xF0 && c1 < 0x90) return 0;   // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Values must be valid UTF-8 downstream (JSON, SQLite, Sigma matching): replace what is not.
std::string toValidUtf8(std::string_view in) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  size_t i = 0;
  // Fast path: values are almost always ASCII, checked eight bytes at a time.
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, s + i, 8);
    if (word & 0x8080808080808080ull) break;
  }
  while (i < n) {
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    const size_t len = validSequence(s, i, n);
    if (len == 0) break;
    i += len;
  }
  if (i == n) return std::string(in);
  std::string out(in.substr(0, i));
  out.reserve(n + 8);
  while (i < n) {
    const size_t len = validSequence(s, i, n);
    if (len == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(in.data() + i, len);
      i += len;
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

// For error messages: short, quoted and valid UTF-8 whatever the input held.
std::string quoted(std::string_view v) {
  constexpr size_t kMax = 48;
  // Built by append: GCC 12 at -O3 warns falsely (-Wrestrict) on `"\"" + std::string`.
  std::string out;
  out.reserve(kMax + 8);
  out.push_back('"');
  out.append(toValidUtf8(v.substr(0, kMax)));
  if (v.size() > kMax) out.append("...");
  out.push_back('"');
  return out;
}

// Element and attribute names without a namespace prefix ("e:Event" → "Event").
const char* localName(const char* name) {
  const char* colon = std::strrchr(name, ':');
  return colon ? colon + 1 : name;
}

bool is(const char* name, const char* expected) {
  return std::strcmp(localName(name), expected) == 0;
}

// Text content of an element: its PCDATA/CDATA children. Values are almost always a single
// PCDATA child, which is returned without copying.
std::string_view elementText(pugi::xml_node n, std::string& scratch) {
  pugi::xml_node c = n.first_child();
  if (!c) return {};
  const auto textual = [](pugi::xml_node x) {
    return x.type() == pugi::node_pcdata || x.type() == pugi::node_cdata;
  };
  if (!c.next_sibling() && textual(c)) return c.value();
  scratch.clear();
  for (; c; c = c.next_sibling()) {
    if (textual(c)) scratch += c.value();
  }
  return scratch;
}

// ---- numbers ------------------------------------------------------------------------------

template <typename T>
Status parseUnsigned(const char* what, std::string_view text, int base, T& out) {
  std::string_view s = trim(text);
  if (base == 16 && s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    if (ec == std::errc::result_out_of_range) {
      return makeError(Errc::kParse, std::string(what) + ": " + quoted(text) + " is out of range");
    }
    return makeError(Errc::kParse, std::string(what) + ": " + quoted(text) + " is not a " +
                                       (base == 16 ? "hexadecimal " : "") + "number");
  }
  if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
    return makeError(Errc::kParse, std::string(what) + ": " + quoted(text) + " is out of range");
  }
  out = static_cast<T>(v);
  return {};
}

// Optional numbers: an empty element or attribute leaves the default (some renderers write
// <Opcode/> or <Task></Task> for absent values); anything else must be a number.
template <typename T>
Status parseOptionalUnsigned(const char* what, std::string_view text, T& out) {
  if (trim(text).empty()) return {};
  return parseUnsigned(what, text, 10, out);
}

// ---- the parser ---------------------------------------------------------------------------

class Parser {
 public:
  Parser(const XmlParseLimits& limits, Event& event) : limits_(limits), event_(event) {}

  Status parseEvent(pugi::xml_node root) {
    bool has_system = false;
    for (pugi::xml_node n = root.first_child(); n; n = n.next_sibling()) {
      if (n.type() != pugi::node_element) continue;
      const char* name = localName(n.name());
      Status st;
      if (std::strcmp(name, "System") == 0) {
        has_system = true;
        st = parseSystem(n);
      } else if (std::strcmp(name, "EventData") == 0) {
        st = parseEventData(n);
      } else if (std::strcmp(name, "UserData") == 0) {
        st = parseUserData(n);
      } else if (std::strcmp(name, "RenderingInfo") == 0) {
        parseRenderingInfo(n);
      }
      // Other elements (e.g. ProcessingErrorData, DebugData) carry nothing the rules use.
      if (!st) return st;
    }
    if (!has_system) return makeError(Errc::kParse, "<Event> has no <System> element");
    return {};
  }

 private:
  Status addField(std::string name, std::string_view value) {
    if (event_.fields().size() >= limits_.max_fields) {
      return makeError(Errc::kLimit,
                       "more than " + std::to_string(limits_.max_fields) + " data fields");
    }
    event_.addField(std::move(name), toValidUtf8(value));
    return {};
  }

  Status parseSystem(pugi::xml_node system) {
    EventSystem& s = event_.system;
    for (pugi::xml_node n = system.first_child(); n; n = n.next_sibling()) {
      if (n.type() != pugi::node_element) continue;
      const char* name = localName(n.name());
      Status st;
      switch (name[0]) {
        case 'P':
          if (std::strcmp(name, "Provider") == 0) {
            for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
              const char* an = localName(a.name());
              if (std::strcmp(an, "Name") == 0) {
                s.provider_name = toValidUtf8(a.value());
              } else if (std::strcmp(an, "Guid") == 0) {
                s.provider_guid = toValidUtf8(a.value());
              } else if (std::strcmp(an, "EventSourceName") == 0) {
                s.event_source_name = toValidUtf8(a.value());
              }
            }
          }
          break;
        case 'E':
          if (std::strcmp(name, "EventID") == 0) {
            st = parseUnsigned("EventID", elementText(n, scratch_), 10, s.event_id);
            if (st) {
              if (pugi::xml_attribute q = attribute(n, "Qualifiers")) {
                uint16_t qualifiers = 0;
                st = parseUnsigned("EventID/@Qualifiers", q.value(), 10, qualifiers);
                if (st) s.qualifiers = qualifiers;
              }
            }
          } else if (std::strcmp(name, "EventRecordID") == 0) {
            st = parseOptionalUnsigned("EventRecordID", elementText(n, scratch_), s.record_id);
          } else if (std::strcmp(name, "Execution") == 0) {
            st = parseOptionalAttr(n, "ProcessID", "Execution/@ProcessID", s.process_id);
            if (st) st = parseOptionalAttr(n, "ThreadID", "Execution/@ThreadID", s.thread_id);
          }
          break;
        case 'V':
          if (std::strcmp(name, "Version") == 0) {
            st = parseOptionalUnsigned("Version", elementText(n, scratch_), s.version);
          }
          break;
        case 'L':
          if (std::strcmp(name, "Level") == 0) {
            st = parseOptionalUnsigned("Level", elementText(n, scratch_), s.level);
          }
          break;
        case 'T':
          if (std::strcmp(name, "Task") == 0) {
            st = parseOptionalUnsigned("Task", elementText(n, scratch_), s.task);
          } else if (std::strcmp(name, "TimeCreated") == 0) {
            if (pugi::xml_attribute t = attribute(n, "SystemTime")) {
              std::optional<int64_t> ticks = parseFiletime(trim(t.value()));
              if (!ticks) {
                st = makeError(Errc::kParse, "TimeCreated/@SystemTime: " + quoted(t.value()) +
                                                 " is not an ISO 8601 UTC time");
              }
              s.time_created = ticks;
            }
          }
          break;
        case 'O':
          if (std::strcmp(name, "Opcode") == 0) {
            st = parseOptionalUnsigned("Opcode", elementText(n, scratch_), s.opcode);
          }
          break;
        case 'K':
          if (std::strcmp(name, "Keywords") == 0) {
            std::string_view text = elementText(n, scratch_);
            if (!trim(text).empty()) st = parseUnsigned("Keywords", text, 16, s.keywords);
          }
          break;
        case 'C':
          if (std::strcmp(name, "Correlation") == 0) {
            if (pugi::xml_attribute a = attribute(n, "ActivityID")) {
              s.activity_id = toValidUtf8(a.value());
            }
            if (pugi::xml_attribute a = attribute(n, "RelatedActivityID")) {
              s.related_activity_id = toValidUtf8(a.value());
            }
          } else if (std::strcmp(name, "Channel") == 0) {
            s.channel = toValidUtf8(elementText(n, scratch_));
          } else if (std::strcmp(name, "Computer") == 0) {
            s.computer = toValidUtf8(elementText(n, scratch_));
          }
          break;
        case 'S':
          if (std::strcmp(name, "Security") == 0) {
            if (pugi::xml_attribute a = attribute(n, "UserID")) s.user_sid = toValidUtf8(a.value());
          }
          break;
        default:
          break;
      }
      if (!st) return st;
    }
    return {};
  }

  static pugi::xml_attribute attribute(pugi::xml_node n, const char* name) {
    for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
      if (is(a.name(), name)) return a;
    }
    return {};
  }

  template <typename T>
  static Status parseOptionalAttr(pugi::xml_node n, const char* attr, const char* what,
                                  std::optional<T>& out) {
    pugi::xml_attribute a = attribute(n, attr);
    if (!a || trim(a.value()).empty()) return {};
    T v{};
    Status st = parseUnsigned(what, a.value(), 10, v);
    if (st) out = v;
    return st;
  }

  Status parseEventData(pugi::xml_node data) {
    event_.data_section = Event::DataSection::kEventData;
    size_t count = 0;
    for (pugi::xml_node n = data.first_child(); n; n = n.next_sibling()) ++count;
    event_.reserveFields(count);
    for (pugi::xml_node n = data.first_child(); n; n = n.next_sibling()) {
      if (n.type() != pugi::node_element) continue;
      const char* name = localName(n.name());
      if (std::strcmp(name, "Data") == 0) {
        pugi::xml_attribute field_name = attribute(n, "Name");
        Status st = addField(field_name ? toValidUtf8(field_name.value()) : std::string("Data"),
                             elementText(n, scratch_));
        if (!st) return st;
      } else if (std::strcmp(name, "Binary") == 0) {
        Status st = decodeHex(elementText(n, scratch_));
        if (!st) return st;
      }
    }
    return {};
  }

  Status decodeHex(std::string_view text) {
    std::string_view s = trim(text);
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (s.size() % 2 != 0) {
      return makeError(Errc::kParse, "EventData/Binary: odd number of hex digits (" +
                                         std::to_string(s.size()) + ")");
    }
    event_.binary.reserve(event_.binary.size() + s.size() / 2);
    for (size_t i = 0; i < s.size(); i += 2) {
      const int hi = nibble(s[i]);
      const int lo = nibble(s[i + 1]);
      if (hi < 0 || lo < 0) {
        return makeError(Errc::kParse, "EventData/Binary: " + quoted(s.substr(i, 2)) +
                                           " at character " + std::to_string(i) + " is not hex");
      }
      event_.binary.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
    return {};
  }

  Status parseUserData(pugi::xml_node user_data) {
    event_.data_section = Event::DataSection::kUserData;
    for (pugi::xml_node root = user_data.first_child(); root; root = root.next_sibling()) {
      if (root.type() != pugi::node_element) continue;
      const std::string root_name = toValidUtf8(localName(root.name()));
      if (event_.user_data_root.empty()) event_.user_data_root = root_name;
      Status st = addAttributes(root, root_name);
      if (!st) return st;
      std::string path;
      st = flattenChildren(root, path, 3);  // Event > UserData > root
      if (!st) return st;
    }
    return {};
  }

  Status addAttributes(pugi::xml_node n, const std::string& path) {
    for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
      const char* an = a.name();
      if (std::strcmp(an, "xmlns") == 0 || std::strncmp(an, "xmlns:", 6) == 0) continue;
      Status st = addField(path + "@" + toValidUtf8(localName(an)), a.value());
      if (!st) return st;
    }
    return {};
  }

  // The only recursion over the document, hence where max_depth is enforced: System,
  // EventData and RenderingInfo are read at fixed depths and nothing below them is visited.
  Status flattenChildren(pugi::xml_node parent, std::string& path, size_t parent_depth) {
    for (pugi::xml_node n = parent.first_child(); n; n = n.next_sibling()) {
      if (n.type() != pugi::node_element) continue;
      if (parent_depth + 1 > limits_.max_depth) {
        return makeError(Errc::kLimit, "elements nested deeper than the limit of " +
                                           std::to_string(limits_.max_depth) + " under <" +
                                           event_.user_data_root + ">");
      }
      const size_t mark = path.size();
      if (!path.empty()) path += '.';
      path += toValidUtf8(localName(n.name()));
      Status st = addAttributes(n, path);
      if (st) {
        bool has_element_child = false;
        for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
          if (c.type() == pugi::node_element) {
            has_element_child = true;
            break;
          }
        }
        st = has_element_child ? flattenChildren(n, path, parent_depth + 1)
                               : addField(path, elementText(n, scratch_));
      }
      path.resize(mark);
      if (!st) return st;
    }
    return {};
  }

  void parseRenderingInfo(pugi::xml_node info) {
    RenderingInfo& r = event_.rendering.emplace();
    if (pugi::xml_attribute a = attribute(info, "Culture")) r.culture = toValidUtf8(a.value());
    for (pugi::xml_node n = info.first_child(); n; n = n.next_sibling()) {
      if (n.type() != pugi::node_element) continue;
      const char* name = localName(n.name());
      std::string* target = nullptr;
      if (std::strcmp(name, "Message") == 0) {
        target = &r.message;
      } else if (std::strcmp(name, "Level") == 0) {
        target = &r.level;
      } else if (std::strcmp(name, "Task") == 0) {
        target = &r.task;
      } else if (std::strcmp(name, "Opcode") == 0) {
        target = &r.opcode;
      } else if (std::strcmp(name, "Channel") == 0) {
        target = &r.channel;
      } else if (std::strcmp(name, "Provider") == 0) {
        target = &r.provider;
      } else if (std::strcmp(name, "Keywords") == 0) {
        for (pugi::xml_node k = n.first_child(); k; k = k.next_sibling()) {
          if (k.type() == pugi::node_element && is(k.name(), "Keyword")) {
            r.keywords.push_back(toValidUtf8(elementText(k, scratch_)));
          }
        }
      }
      if (target) *target = toValidUtf8(elementText(n, scratch_));
    }
  }

  const XmlParseLimits& limits_;
  Event& event_;
  std::string scratch_;
};

// DTDs are never part of rendered events; refusing them outright rules out entity expansion
// attacks (billion laughs) and external entities whatever the XML library would do.
Status rejectMarkupDeclarations(std::string_view xml) {
  // Keyed on '!', which is rare in events, rather than on every '<'.
  size_t pos = 0;
  while ((pos = xml.find('!', pos)) != std::string_view::npos) {
    if (pos == 0 || xml[pos - 1] != '<') {
      ++pos;
      continue;
    }
    const size_t lt = pos - 1;
    std::string_view rest = xml.substr(lt);
    if (rest.substr(0, 4) == "<!--") {
      const size_t end = xml.find("-->", lt + 4);
      if (end == std::string_view::npos) return {};  // the XML parser reports the truncation
      pos = end + 3;
    } else if (rest.substr(0, 9) == "<![CDATA[") {
      const size_t end = xml.find("]]>", lt + 9);
      if (end == std::string_view::npos) return {};
      pos = end + 3;
    } else {
      std::string what = "DOCTYPE not allowed";
      if (rest.substr(0, 8) == "<!ENTITY") what = "DOCTYPE not allowed (entity declaration)";
      return makeError(Errc::kParse, what + " at byte " + std::to_string(lt));
    }
  }
  return {};
}

Result<Event> parseChecked(char* data, size_t size, const XmlParseLimits& limits) {
  pugi::xml_document doc;
  // parse_ws_pcdata_single keeps a whitespace-only value (<Data> </Data>) without creating
  // nodes for the indentation between elements.
  constexpr unsigned kOptions = pugi::parse_default | pugi::parse_ws_pcdata_single;
  pugi::xml_parse_result res = doc.load_buffer_inplace(data, size, kOptions, pugi::encoding_utf8);
  if (!res) {
    return makeError(Errc::kParse, std::string("malformed XML at byte ") +
                                       std::to_string(res.offset) + ": " + res.description());
  }
  pugi::xml_node root = doc.document_element();
  if (!root) return makeError(Errc::kParse, "no root element");
  if (!is(root.name(), "Event")) {
    return makeError(Errc::kParse,
                     "root element is <" + toValidUtf8(root.name()) + ">, expected <Event>");
  }
  Event event;
  Parser parser(limits, event);
  Status st = parser.parseEvent(root);
  if (!st) return st.error();
  return event;
}

Status checkInput(std::string_view xml, const XmlParseLimits& limits) {
  if (trim(xml).empty()) return makeError(Errc::kParse, "empty input: no <Event> element");
  if (xml.size() > limits.max_event_bytes) {
    return makeError(Errc::kLimit, "event is " + std::to_string(xml.size()) +
                                       " bytes, above the limit of " +
                                       std::to_string(limits.max_event_bytes));
  }
  return rejectMarkupDeclarations(xml);
}

// A rare huge event must not pin megabytes per thread.
constexpr size_t kKeepBufferBytes = 256 * 1024;

}  // namespace

Result<Event> parseEventXmlInPlace(char* data, size_t size, const XmlParseLimits& limits) {
  try {
    Status st = checkInput(std::string_view(data, size), limits);
    if (!st) return st.error();
    return parseChecked(data, size, limits);
  } catch (const std::bad_alloc&) {
    return makeError(Errc::kInternal, "out of memory parsing event XML");
  } catch (const std::exception& e) {
    return makeError(Errc::kInternal, std::string("parsing event XML: ") + e.what());
  }
}

Result<Event> parseEventXml(std::string_view xml, const XmlParseLimits& limits) {
  try {
    Status st = checkInput(xml, limits);
    if (!st) return st.error();
    // pugixml parses in place; one reused buffer per thread avoids an allocation per event.
    thread_local std::string buffer;
    buffer.assign(xml);
    Result<Event> result = parseChecked(buffer.data(), buffer.size(), limits);
    if (buffer.capacity() > kKeepBufferBytes) std::string().swap(buffer);
    return result;
  } catch (const std::bad_alloc&) {
    return makeError(Errc::kInternal, "out of memory parsing event XML");
  } catch (const std::exception& e) {
    return makeError(Errc::kInternal, std::string("parsing event XML: ") + e.what());
  }
}

}  // namespace t0w
