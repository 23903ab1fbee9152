#include "agent/core/event_json.h"

#include <array>
#include <charconv>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/core/time.h"
#include "common/text/json_string.h"

namespace t0w {
namespace {

using Json = nlohmann::ordered_json;

std::string hexBytes(const std::vector<uint8_t>& bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

void putIfNotEmpty(Json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}

Json systemToJson(const EventSystem& s) {
  Json j;
  Json provider;
  provider["Name"] = s.provider_name;
  putIfNotEmpty(provider, "Guid", s.provider_guid);
  putIfNotEmpty(provider, "EventSourceName", s.event_source_name);
  j["Provider"] = std::move(provider);
  j["EventID"] = s.event_id;
  if (s.qualifiers) j["Qualifiers"] = *s.qualifiers;
  j["Version"] = s.version;
  j["Level"] = s.level;
  j["Task"] = s.task;
  j["Opcode"] = s.opcode;
  j["Keywords"] = formatHex64(s.keywords);
  if (s.time_created) j["TimeCreated"] = formatFiletime(*s.time_created);
  j["EventRecordID"] = s.record_id;
  if (!s.activity_id.empty() || !s.related_activity_id.empty()) {
    Json c;
    putIfNotEmpty(c, "ActivityID", s.activity_id);
    putIfNotEmpty(c, "RelatedActivityID", s.related_activity_id);
    j["Correlation"] = std::move(c);
  }
  if (s.process_id || s.thread_id) {
    Json e;
    if (s.process_id) e["ProcessID"] = *s.process_id;
    if (s.thread_id) e["ThreadID"] = *s.thread_id;
    j["Execution"] = std::move(e);
  }
  j["Channel"] = s.channel;
  j["Computer"] = s.computer;
  if (!s.user_sid.empty()) j["Security"] = Json{{"UserID", s.user_sid}};
  return j;
}

// Repeated names become arrays so that no value is lost.
Json fieldsToJson(std::span<const EventField> fields) {
  Json j = Json::object();
  for (const auto& f : fields) {
    auto it = j.find(f.name);
    if (it == j.end()) {
      j[f.name] = f.value;
    } else if (it->is_array()) {
      it->push_back(f.value);
    } else {
      Json arr = Json::array({*it, f.value});
      *it = std::move(arr);
    }
  }
  return j;
}

}  // namespace

nlohmann::ordered_json eventToJson(const Event& event) {
  Json j;
  j["System"] = systemToJson(event.system);
  if (event.data_section == Event::DataSection::kUserData) {
    Json u = fieldsToJson(event.fields());
    j["UserData"] = Json{{"Root", event.user_data_root}, {"Fields", std::move(u)}};
  } else if (event.data_section == Event::DataSection::kEventData || !event.fields().empty()) {
    j["EventData"] = fieldsToJson(event.fields());
  }
  if (!event.binary.empty()) j["Binary"] = hexBytes(event.binary);
  if (event.rendering) {
    const RenderingInfo& r = *event.rendering;
    Json ri;
    putIfNotEmpty(ri, "Culture", r.culture);
    putIfNotEmpty(ri, "Message", r.message);
    putIfNotEmpty(ri, "Level", r.level);
    putIfNotEmpty(ri, "Task", r.task);
    putIfNotEmpty(ri, "Opcode", r.opcode);
    putIfNotEmpty(ri, "Channel", r.channel);
    putIfNotEmpty(ri, "Provider", r.provider);
    if (!r.keywords.empty()) ri["Keywords"] = r.keywords;
    j["RenderingInfo"] = std::move(ri);
  }
  j["Origin"] = Json{{"Source", event.origin.source}, {"Position", event.origin.position}};
  return j;
}

std::string eventToJsonLine(const Event& event) {
  // One allocation of about the right size instead of doubling up to it.
  size_t estimate = 512 + event.origin.source.size() + event.system.computer.size();
  for (const auto& f : event.fields()) estimate += f.name.size() + f.value.size() + 8;
  std::string out;
  out.reserve(estimate);
  appendEventJsonLine(out, event);
  return out;
}

// ---- the direct writer ----------------------------------------------------------------------

namespace {

// Copies a short piece (a name, a value, a key) as a few fixed-size moves instead of a call to
// memcpy: an event's line is some sixty pieces, and the calls cost more than their bytes.
inline void copyPiece(char* d, const char* s, size_t n) {
  if (n >= 16 && n <= 32) {
    std::memcpy(d, s, 16);
    std::memcpy(d + n - 16, s + n - 16, 16);
  } else if (n >= 8 && n < 16) {
    std::memcpy(d, s, 8);
    std::memcpy(d + n - 8, s + n - 8, 8);
  } else if (n >= 4 && n < 8) {
    std::memcpy(d, s, 4);
    std::memcpy(d + n - 4, s + n - 4, 4);
  } else if (n < 4) {
    for (size_t i = 0; i < n; ++i) d[i] = s[i];
  } else {
    std::memcpy(d, s, n);
  }
}

// The line is assembled in a buffer on the stack and appended to the output string when the
// buffer fills and at the end: one copy of the line into the string instead of an append
// (a call, a capacity check, a memcpy) per piece.
class LineWriter {
 public:
  explicit LineWriter(std::string& out) : out_(out) {}
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  // Members of the object being written: a comma before all but the first. Keys are this
  // file's literals: short, nothing to escape.
  void member(std::string_view key) { plainKey(key); }
  void stringMember(std::string_view key, std::string_view value) {
    member(key);
    string(value);
  }
  void stringMemberIfNotEmpty(std::string_view key, const std::string& value) {
    if (!value.empty()) stringMember(key, value);
  }
  void numberMember(std::string_view key, uint64_t value) {
    member(key);
    number(value);
  }
  // Opens a nested object as the value of `key`; closeObject() ends it.
  void openObject(std::string_view key) {
    member(key);
    put('{');
    first_ = true;
  }
  void closeObject() {
    put('}');
    first_ = false;
  }

  void system(const EventSystem& s) {
    openObject("System");
    openObject("Provider");
    stringMember("Name", s.provider_name);
    stringMemberIfNotEmpty("Guid", s.provider_guid);
    stringMemberIfNotEmpty("EventSourceName", s.event_source_name);
    closeObject();
    numberMember("EventID", s.event_id);
    if (s.qualifiers) numberMember("Qualifiers", *s.qualifiers);
    numberMember("Version", s.version);
    numberMember("Level", s.level);
    numberMember("Task", s.task);
    numberMember("Opcode", s.opcode);
    member("Keywords");
    hex64(s.keywords);
    if (s.time_created) {
      member("TimeCreated");  // digits and separators: nothing to escape
      char* w = room(kMaxFiletimeText + 3);
      *w++ = '"';
      w += writeFiletime(w, *s.time_created);
      *w++ = '"';
      used_ = static_cast<size_t>(w - stage_);
    }
    numberMember("EventRecordID", s.record_id);
    if (!s.activity_id.empty() || !s.related_activity_id.empty()) {
      openObject("Correlation");
      stringMemberIfNotEmpty("ActivityID", s.activity_id);
      stringMemberIfNotEmpty("RelatedActivityID", s.related_activity_id);
      closeObject();
    }
    if (s.process_id || s.thread_id) {
      openObject("Execution");
      if (s.process_id) numberMember("ProcessID", *s.process_id);
      if (s.thread_id) numberMember("ThreadID", *s.thread_id);
      closeObject();
    }
    stringMember("Channel", s.channel);
    stringMember("Computer", s.computer);
    if (!s.user_sid.empty()) {
      openObject("Security");
      stringMember("UserID", s.user_sid);
      closeObject();
    }
    closeObject();
  }

  // Repeated names become one array at the first occurrence's place, as fieldsToJson does.
  void fields(std::string_view key, std::span<const EventField> fields) {
    openObject(key);
    const size_t n = fields.size();
    if (n <= kLinearMax && !hasRepeatedName(fields)) {
      for (const EventField& f : fields) field(f);  // the usual event: every name once
    } else if (n <= kLinearMax) {
      for (size_t i = 0; i < n; ++i) {
        bool earlier = false;
        for (size_t j = 0; j < i && !earlier; ++j) earlier = same(fields[j], fields[i]);
        if (earlier) continue;
        size_t next = i + 1;
        while (next < n && !same(fields[next], fields[i])) ++next;
        fieldName(fields[i].name);
        if (next == n) {
          string(fields[i].value);
          continue;
        }
        put('[');
        string(fields[i].value);
        for (size_t k = next; k < n; ++k) {
          if (!same(fields[k], fields[i])) continue;
          put(',');
          string(fields[k].value);
        }
        put(']');
      }
    } else {
      constexpr size_t kNone = static_cast<size_t>(-1);
      std::vector<size_t> next(n, kNone);
      std::vector<bool> repeat(n, false);
      std::unordered_map<std::string_view, std::pair<size_t, size_t>> groups;  // first, last
      groups.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        auto [it, inserted] = groups.try_emplace(fields[i].name, i, i);
        if (!inserted) {
          next[it->second.second] = i;
          it->second.second = i;
          repeat[i] = true;
        }
      }
      for (size_t i = 0; i < n; ++i) {
        if (repeat[i]) continue;
        fieldName(fields[i].name);
        if (next[i] == kNone) {
          string(fields[i].value);
          continue;
        }
        put('[');
        for (size_t k = i; k != kNone; k = next[k]) {
          if (k != i) put(',');
          string(fields[k].value);
        }
        put(']');
      }
    }
    closeObject();
  }

  void rendering(const RenderingInfo& r) {
    if (r.culture.empty() && r.message.empty() && r.level.empty() && r.task.empty() &&
        r.opcode.empty() && r.channel.empty() && r.provider.empty() && r.keywords.empty()) {
      member("RenderingInfo");  // eventToJson leaves the object null when nothing was set
      const std::string_view null = "null";
      copyPiece(room(null.size()), null.data(), null.size());
      used_ += null.size();
      return;
    }
    openObject("RenderingInfo");
    stringMemberIfNotEmpty("Culture", r.culture);
    stringMemberIfNotEmpty("Message", r.message);
    stringMemberIfNotEmpty("Level", r.level);
    stringMemberIfNotEmpty("Task", r.task);
    stringMemberIfNotEmpty("Opcode", r.opcode);
    stringMemberIfNotEmpty("Channel", r.channel);
    stringMemberIfNotEmpty("Provider", r.provider);
    if (!r.keywords.empty()) {
      member("Keywords");
      put('[');
      for (size_t i = 0; i < r.keywords.size(); ++i) {
        if (i > 0) put(',');
        string(r.keywords[i]);
      }
      put(']');
    }
    closeObject();
  }

  void begin() {
    put('{');
    first_ = true;
  }
  // Closes the line and hands what the stage holds to the output.
  void end() {
    put('}');
    flush();
  }

 private:
  // Events have a few dozen fields at most; a map pays off only for large ones.
  static constexpr size_t kLinearMax = 32;
  static constexpr size_t kStage = 4096;           // more than a usual event's line
  static constexpr size_t kMaxPiece = kStage / 2;  // larger strings go straight to the output

  // Room for n more bytes in the stage (n <= kStage), which the caller fills and then counts in
  // used_.
  char* room(size_t n) {
    if (kStage - used_ < n) flush();
    return stage_ + used_;
  }
  void flush() {
    out_.append(stage_, used_);
    used_ = 0;
  }
  void put(char c) { *room(1) = c, ++used_; }
  // A JSON string: its bytes between quotes when nothing needs escaping (nearly every value),
  // else appendJsonString's escaping, straight into the output.
  void string(std::string_view v) {
    if (v.size() <= kMaxPiece && isVerbatimJsonString(v)) {
      char* w = room(v.size() + 2);
      *w++ = '"';
      copyPiece(w, v.data(), v.size());
      w[v.size()] = '"';
      used_ += v.size() + 2;
      return;
    }
    flush();
    appendJsonString(out_, v);
  }

  void number(uint64_t v) {
    char* w = room(20);  // the digits of a uint64_t
    used_ = static_cast<size_t>(std::to_chars(w, w + 20, v).ptr - stage_);
  }

  // formatHex64 as a JSON string ("0x8020000000000000"), without its snprintf.
  void hex64(uint64_t v) {
    char* w = room(20);
    *w++ = '"';
    *w++ = '0';
    *w++ = 'x';
    w = std::to_chars(w, w + 16, v, 16).ptr;
    *w++ = '"';
    used_ = static_cast<size_t>(w - stage_);
  }

  // `,"name":"value"` for a field of the event; whether its name needs escaping is known.
  void field(const EventField& f) {
    if (f.plain_name && f.name.size() <= kMaxPiece) {
      plainKey(f.name);
    } else {
      fieldName(f.name);
    }
    string(f.value);
  }

  // `,"key":` (no comma for the first member) for a key that needs no escaping, at most
  // kMaxPiece bytes.
  void plainKey(std::string_view key) {
    char* w = room(key.size() + 4);
    if (!first_) *w++ = ',';
    first_ = false;
    *w++ = '"';
    copyPiece(w, key.data(), key.size());
    w += key.size();
    *w++ = '"';
    *w++ = ':';
    used_ = static_cast<size_t>(w - stage_);
  }

  // A member whose name comes from the event, so escaped.
  void fieldName(std::string_view name) {
    if (!first_) put(',');
    first_ = false;
    string(name);
    put(':');
  }

  static bool same(const EventField& a, const EventField& b) {
    return a.hash == b.hash && a.name == b.name;
  }

  // For up to 32 fields: whether a name occurs twice, by a small open-addressing table of
  // their hashes (names compared only when hashes meet), not by comparing every pair.
  static bool hasRepeatedName(std::span<const EventField> fields) {
    constexpr size_t kSlots = 64;  // at most half full
    static_assert(kSlots >= 2 * kLinearMax && kLinearMax < 255);
    std::array<uint8_t, kSlots> slot{};  // field index + 1; 0 is empty
    for (size_t i = 0; i < fields.size(); ++i) {
      for (size_t s = fields[i].hash % kSlots;; s = (s + 1) % kSlots) {
        if (slot[s] == 0) {
          slot[s] = static_cast<uint8_t>(i + 1);
          break;
        }
        if (same(fields[slot[s] - 1], fields[i])) return true;
      }
    }
    return false;
  }

  std::string& out_;
  bool first_ = true;
  size_t used_ = 0;
  char stage_[kStage];  // not initialised: written before it is read
};

}  // namespace

void appendEventJsonLine(std::string& out, const Event& event) {
  LineWriter w(out);
  w.begin();
  w.system(event.system);
  if (event.data_section == Event::DataSection::kUserData) {
    w.openObject("UserData");
    w.stringMember("Root", event.user_data_root);
    w.fields("Fields", event.fields());
    w.closeObject();
  } else if (event.data_section == Event::DataSection::kEventData || !event.fields().empty()) {
    w.fields("EventData", event.fields());
  }
  if (!event.binary.empty()) w.stringMember("Binary", hexBytes(event.binary));
  if (event.rendering) w.rendering(*event.rendering);
  w.openObject("Origin");
  w.stringMember("Source", event.origin.source);
  w.numberMember("Position", event.origin.position);
  w.closeObject();
  w.end();
}

}  // namespace t0w
