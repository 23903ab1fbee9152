#include "collectors/eventlog/event_xml_parser.h"

#include <charconv>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <pugixml.hpp>
#include <string>

#include "collectors/eventlog/xml_tree.h"
#include "common/core/time.h"
#include "common/text/utf8.h"

namespace t0w {
namespace {

// ---- text helpers -------------------------------------------------------------------------
// Values and names must be valid UTF-8 downstream (JSON, SQLite, Sigma matching): what is not is
// repaired with common/text/utf8's rule, appended so that callers fill strings they keep from
// one event to the next.

// `in` itself when it is valid UTF-8 (no copy), else its repaired copy in `scratch`.
std::string_view validUtf8(std::string_view in, std::string& scratch) {
  if (isValidUtf8(in)) return in;
  scratch.clear();
  appendValidUtf8(scratch, in);
  return scratch;
}

void assignValidUtf8(std::string& out, std::string_view in) {
  out.clear();
  appendValidUtf8(out, in);
}

std::string toValidUtf8(std::string_view in) {
  std::string out;
  appendValidUtf8(out, in);
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

// ---- numbers ------------------------------------------------------------------------------

// Up to 19 decimal digits (below 10^19, so no overflow), as most numbers of an event are: their
// value without from_chars' general machinery; nullopt for anything else.
std::optional<uint64_t> shortDecimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (const char c : s) {
    const auto d = static_cast<unsigned char>(c - '0');
    if (d > 9) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

template <typename T>
Status parseUnsigned(const char* what, std::string_view text, int base, T& out) {
  if (base == 10) {
    if (const std::optional<uint64_t> v = shortDecimal(text);
        v && *v <= static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      out = static_cast<T>(*v);
      return {};
    }
  }
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

// Reads an Event out of the document's tree (built by scanSimpleXml or from pugixml's DOM).
class Parser {
 public:
  Parser(const XmlParseLimits& limits, const XmlTree& tree, EventXmlParser::Scratch& scratch,
         Event& event)
      : limits_(limits), tree_(tree), scratch_(scratch), event_(event) {}

  Status parseEvent(uint32_t root) {
    bool has_system = false;
    for (uint32_t n = node(root).first_child; n != kNone; n = node(n).next_sibling) {
      if (!node(n).element) continue;
      const std::string_view name = node(n).local;
      Status st;
      if (name == "System") {
        has_system = true;
        st = parseSystem(n);
      } else if (name == "EventData") {
        st = parseEventData(n);
      } else if (name == "UserData") {
        st = parseUserData(n);
      } else if (name == "RenderingInfo") {
        parseRenderingInfo(n);
      }
      // Other elements (e.g. ProcessingErrorData, DebugData) carry nothing the rules use.
      if (!st) return st;
    }
    if (!has_system) return makeError(Errc::kParse, "<Event> has no <System> element");
    return {};
  }

 private:
  static constexpr uint32_t kNone = XmlTree::kNone;

  const XmlTree::Node& node(uint32_t n) const { return tree_.node(n); }

  // The attribute by local name, nullptr when absent.
  const XmlTree::Attribute* attribute(uint32_t n, std::string_view name) const {
    for (uint32_t i = node(n).attr_begin; i < node(n).attr_end; ++i) {
      if (tree_.attribute(i).local == name) return &tree_.attribute(i);
    }
    return nullptr;
  }

  // Text content of an element: its text children. Values are almost always a single text
  // child, which is returned without copying.
  std::string_view text(uint32_t n) {
    uint32_t c = node(n).first_child;
    if (c == kNone) return {};
    if (node(c).next_sibling == kNone && !node(c).element) return node(c).text;
    std::string& joined = scratch_.text;
    joined.clear();
    for (; c != kNone; c = node(c).next_sibling) {
      if (!node(c).element) joined += node(c).text;
    }
    return joined;
  }

  // Filled in place: the field's strings are reused from an earlier event (Event::clear).
  Status addField(std::string_view name, std::string_view value) {
    if (event_.fields().size() >= limits_.max_fields) {
      return makeError(Errc::kLimit,
                       "more than " + std::to_string(limits_.max_fields) + " data fields");
    }
    EventField& f = event_.appendField(validUtf8(name, scratch_.valid_name));
    appendValidUtf8(f.value, value);
    return {};
  }

  Status parseSystem(uint32_t system) {
    EventSystem& s = event_.system;
    for (uint32_t n = node(system).first_child; n != kNone; n = node(n).next_sibling) {
      if (!node(n).element) continue;
      const std::string_view name = node(n).local;
      Status st;
      switch (name.empty() ? '\0' : name.front()) {
        case 'P':
          if (name == "Provider") {
            for (uint32_t i = node(n).attr_begin; i < node(n).attr_end; ++i) {
              const XmlTree::Attribute& a = tree_.attribute(i);
              const std::string_view an = a.local;
              if (an == "Name") {
                assignValidUtf8(s.provider_name, a.value);
              } else if (an == "Guid") {
                assignValidUtf8(s.provider_guid, a.value);
              } else if (an == "EventSourceName") {
                assignValidUtf8(s.event_source_name, a.value);
              }
            }
          }
          break;
        case 'E':
          if (name == "EventID") {
            st = parseUnsigned("EventID", text(n), 10, s.event_id);
            if (st) {
              if (const XmlTree::Attribute* q = attribute(n, "Qualifiers")) {
                uint16_t qualifiers = 0;
                st = parseUnsigned("EventID/@Qualifiers", q->value, 10, qualifiers);
                if (st) s.qualifiers = qualifiers;
              }
            }
          } else if (name == "EventRecordID") {
            st = parseOptionalUnsigned("EventRecordID", text(n), s.record_id);
          } else if (name == "Execution") {
            st = parseOptionalAttr(n, "ProcessID", "Execution/@ProcessID", s.process_id);
            if (st) st = parseOptionalAttr(n, "ThreadID", "Execution/@ThreadID", s.thread_id);
          }
          break;
        case 'V':
          if (name == "Version") st = parseOptionalUnsigned("Version", text(n), s.version);
          break;
        case 'L':
          if (name == "Level") st = parseOptionalUnsigned("Level", text(n), s.level);
          break;
        case 'T':
          if (name == "Task") {
            st = parseOptionalUnsigned("Task", text(n), s.task);
          } else if (name == "TimeCreated") {
            if (const XmlTree::Attribute* t = attribute(n, "SystemTime")) {
              std::optional<int64_t> ticks = parseFiletime(trim(t->value));
              if (!ticks) {
                st = makeError(Errc::kParse, "TimeCreated/@SystemTime: " + quoted(t->value) +
                                                 " is not an ISO 8601 UTC time");
              }
              s.time_created = ticks;
            }
          }
          break;
        case 'O':
          if (name == "Opcode") st = parseOptionalUnsigned("Opcode", text(n), s.opcode);
          break;
        case 'K':
          if (name == "Keywords") {
            std::string_view keywords = text(n);
            if (!trim(keywords).empty()) st = parseUnsigned("Keywords", keywords, 16, s.keywords);
          }
          break;
        case 'C':
          if (name == "Correlation") {
            if (const XmlTree::Attribute* a = attribute(n, "ActivityID")) {
              assignValidUtf8(s.activity_id, a->value);
            }
            if (const XmlTree::Attribute* a = attribute(n, "RelatedActivityID")) {
              assignValidUtf8(s.related_activity_id, a->value);
            }
          } else if (name == "Channel") {
            assignValidUtf8(s.channel, text(n));
          } else if (name == "Computer") {
            assignValidUtf8(s.computer, text(n));
          }
          break;
        case 'S':
          if (name == "Security") {
            if (const XmlTree::Attribute* a = attribute(n, "UserID")) {
              assignValidUtf8(s.user_sid, a->value);
            }
          }
          break;
        default:
          break;
      }
      if (!st) return st;
    }
    return {};
  }

  template <typename T>
  Status parseOptionalAttr(uint32_t n, std::string_view attr, const char* what,
                           std::optional<T>& out) const {
    const XmlTree::Attribute* a = attribute(n, attr);
    if (a == nullptr || trim(a->value).empty()) return {};
    T v{};
    Status st = parseUnsigned(what, a->value, 10, v);
    if (st) out = v;
    return st;
  }

  Status parseEventData(uint32_t data) {
    event_.data_section = Event::DataSection::kEventData;
    for (uint32_t n = node(data).first_child; n != kNone; n = node(n).next_sibling) {
      if (!node(n).element) continue;
      const std::string_view name = node(n).local;
      if (name == "Data") {
        const XmlTree::Attribute* field_name = attribute(n, "Name");
        Status st = addField(field_name ? field_name->value : "Data", text(n));
        if (!st) return st;
      } else if (name == "Binary") {
        Status st = decodeHex(text(n));
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

  Status parseUserData(uint32_t user_data) {
    event_.data_section = Event::DataSection::kUserData;
    for (uint32_t root = node(user_data).first_child; root != kNone;
         root = node(root).next_sibling) {
      if (!node(root).element) continue;
      std::string& path = scratch_.path;
      assignValidUtf8(path, node(root).local);
      if (event_.user_data_root.empty()) event_.user_data_root = path;
      Status st = addAttributes(root, path);  // root attributes are "Root@attr"
      if (!st) return st;
      path.clear();
      st = flattenChildren(root, path, 3);  // Event > UserData > root
      if (!st) return st;
    }
    return {};
  }

  Status addAttributes(uint32_t n, const std::string& path) {
    for (uint32_t i = node(n).attr_begin; i < node(n).attr_end; ++i) {
      const XmlTree::Attribute& a = tree_.attribute(i);
      if (a.name == "xmlns" || a.name.substr(0, 6) == "xmlns:") continue;
      std::string& name = scratch_.name;
      name.assign(path);
      name.push_back('@');
      appendValidUtf8(name, a.local);
      Status st = addField(name, a.value);
      if (!st) return st;
    }
    return {};
  }

  // The only recursion over the document, hence where max_depth is enforced: System,
  // EventData and RenderingInfo are read at fixed depths and nothing below them is visited.
  Status flattenChildren(uint32_t parent, std::string& path, size_t parent_depth) {
    for (uint32_t n = node(parent).first_child; n != kNone; n = node(n).next_sibling) {
      if (!node(n).element) continue;
      if (parent_depth + 1 > limits_.max_depth) {
        return makeError(Errc::kLimit, "elements nested deeper than the limit of " +
                                           std::to_string(limits_.max_depth) + " under <" +
                                           event_.user_data_root + ">");
      }
      const size_t mark = path.size();
      if (!path.empty()) path += '.';
      appendValidUtf8(path, node(n).local);
      Status st = addAttributes(n, path);
      if (st) {
        bool has_element_child = false;
        for (uint32_t c = node(n).first_child; c != kNone; c = node(c).next_sibling) {
          if (node(c).element) {
            has_element_child = true;
            break;
          }
        }
        st = has_element_child ? flattenChildren(n, path, parent_depth + 1)
                               : addField(path, text(n));
      }
      path.resize(mark);
      if (!st) return st;
    }
    return {};
  }

  void parseRenderingInfo(uint32_t info) {
    RenderingInfo& r = event_.rendering.emplace();
    if (const XmlTree::Attribute* a = attribute(info, "Culture")) {
      assignValidUtf8(r.culture, a->value);
    }
    for (uint32_t n = node(info).first_child; n != kNone; n = node(n).next_sibling) {
      if (!node(n).element) continue;
      const std::string_view name = node(n).local;
      std::string* target = nullptr;
      if (name == "Message") {
        target = &r.message;
      } else if (name == "Level") {
        target = &r.level;
      } else if (name == "Task") {
        target = &r.task;
      } else if (name == "Opcode") {
        target = &r.opcode;
      } else if (name == "Channel") {
        target = &r.channel;
      } else if (name == "Provider") {
        target = &r.provider;
      } else if (name == "Keywords") {
        for (uint32_t k = node(n).first_child; k != kNone; k = node(k).next_sibling) {
          if (node(k).element && node(k).local == "Keyword") {
            r.keywords.push_back(toValidUtf8(text(k)));
          }
        }
      }
      if (target) assignValidUtf8(*target, text(n));
    }
  }

  const XmlParseLimits& limits_;
  const XmlTree& tree_;
  EventXmlParser::Scratch& scratch_;
  Event& event_;
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

// pugixml for what scanSimpleXml does not take: the rest of XML, and the errors with their
// offsets. The document element is copied into `tree` as views into `doc`.
Status pugixmlTree(char* data, size_t size, pugi::xml_document& doc, XmlTree& tree) {
  tree.clear();
  // parse_ws_pcdata_single keeps a whitespace-only value (<Data> </Data>) without creating
  // nodes for the indentation between elements.
  constexpr unsigned kOptions = pugi::parse_default | pugi::parse_ws_pcdata_single;
  pugi::xml_parse_result res = doc.load_buffer_inplace(data, size, kOptions, pugi::encoding_utf8);
  if (!res) {
    return makeError(Errc::kParse, std::string("malformed XML at byte ") +
                                       std::to_string(res.offset) + ": " + res.description());
  }
  const pugi::xml_node root = doc.document_element();
  if (!root) return {};
  // Iterative: documents may nest deeper than the stack allows (the Parser enforces max_depth).
  const auto addElement = [&tree](uint32_t parent, pugi::xml_node n) {
    const std::string_view name = n.name();
    const uint32_t id = tree.addElement(parent, name, xmlLocalName(name));
    for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
      const std::string_view attr = a.name();
      tree.addAttribute(id, attr, xmlLocalName(attr), a.value());
    }
    return id;
  };
  pugi::xml_node current = root;
  uint32_t current_id = addElement(XmlTree::kNone, root);
  pugi::xml_node child = root.first_child();
  for (;;) {
    if (child) {
      if (child.type() == pugi::node_element) {
        current_id = addElement(current_id, child);
        current = child;
        child = child.first_child();
        continue;
      }
      if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
        tree.addText(current_id, child.value());
      }
      child = child.next_sibling();
      continue;
    }
    if (current == root) break;
    child = current.next_sibling();
    current = current.parent();
    current_id = tree.node(current_id).parent;
  }
  return {};
}

Status parseTree(const XmlTree& tree, const XmlParseLimits& limits,
                 EventXmlParser::Scratch& scratch, Event& event) {
  const uint32_t root = tree.root();
  if (root == XmlTree::kNone) return makeError(Errc::kParse, "no root element");
  if (tree.node(root).local != "Event") {
    return makeError(Errc::kParse, "root element is <" + toValidUtf8(tree.node(root).name) +
                                       ">, expected <Event>");
  }
  Parser parser(limits, tree, scratch, event);
  return parser.parseEvent(root);
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

// A rare huge event must not pin megabytes per parser.
constexpr size_t kKeepBufferBytes = 256 * 1024;

Status internalError(const char* what) {
  return makeError(Errc::kInternal, std::string("parsing event XML: ") + what);
}

Status outOfMemory() { return makeError(Errc::kInternal, "out of memory parsing event XML"); }

}  // namespace

Status EventXmlParser::parseInPlace(char* data, size_t size, Event& event) {
  try {
    event.clear();
    Status st = checkInput(std::string_view(data, size), limits_);
    if (!st) return st;
    pugi::xml_document doc;  // the views in tree_ point into it when it is used
    if (pugixml_only_ || !scanSimpleXml(std::string_view(data, size), tree_)) {
      st = pugixmlTree(data, size, doc, tree_);
      if (!st) return st;
    }
    return parseTree(tree_, limits_, scratch_, event);
  } catch (const std::bad_alloc&) {
    return outOfMemory();
  } catch (const std::exception& e) {
    return internalError(e.what());
  }
}

Status EventXmlParser::parse(std::string_view xml, Event& event) {
  try {
    event.clear();
    Status st = checkInput(xml, limits_);
    if (!st) return st;
    // The scan leaves its input as it is; pugixml parses in place, so into a copy kept from one
    // event to the next.
    if (!pugixml_only_ && scanSimpleXml(xml, tree_)) {
      return parseTree(tree_, limits_, scratch_, event);
    }
    buffer_.assign(xml);
    pugi::xml_document doc;
    st = pugixmlTree(buffer_.data(), buffer_.size(), doc, tree_);
    if (st) st = parseTree(tree_, limits_, scratch_, event);
    if (buffer_.capacity() > kKeepBufferBytes) std::string().swap(buffer_);
    return st;
  } catch (const std::bad_alloc&) {
    return outOfMemory();
  } catch (const std::exception& e) {
    return internalError(e.what());
  }
}

size_t EventXmlParser::scanElement(std::string_view available) {
  if (pugixml_only_) return 0;
  try {
    // An element the scan takes holds no markup declaration (no "<!" at all) and starts with
    // '<': checkInput() would pass it but for its size, limited here.
    return scanSimpleElement(available.substr(0, limits_.max_event_bytes), tree_);
  } catch (const std::bad_alloc&) {
    return 0;  // the caller's parse() reports it
  }
}

Status EventXmlParser::parseScanned(Event& event) {
  try {
    event.clear();
    return parseTree(tree_, limits_, scratch_, event);
  } catch (const std::bad_alloc&) {
    return outOfMemory();
  } catch (const std::exception& e) {
    return internalError(e.what());
  }
}

Result<Event> parseEventXmlInPlace(char* data, size_t size, const XmlParseLimits& limits) {
  EventXmlParser parser(limits);
  Event event;
  Status st = parser.parseInPlace(data, size, event);
  if (!st) return st.error();
  return event;
}

Result<Event> parseEventXml(std::string_view xml, const XmlParseLimits& limits) {
  EventXmlParser parser(limits);
  Event event;
  Status st = parser.parse(xml, event);
  if (!st) return st.error();
  return event;
}

}  // namespace t0w
