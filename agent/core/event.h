// Event: one Windows event (or one trace-file line) as every stage sees it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/field_key.h"

namespace t0w {

// The <System> element of a rendered event. Numbers keep their Windows widths.
struct EventSystem {
  std::string provider_name;
  std::string provider_guid;           // "{...}" as rendered, empty when absent
  std::string event_source_name;       // Provider/@EventSourceName (classic providers)
  uint32_t event_id = 0;               // EventID without qualifiers
  std::optional<uint16_t> qualifiers;  // EventID/@Qualifiers (classic providers)
  uint8_t version = 0;
  uint8_t level = 0;
  uint16_t task = 0;
  uint8_t opcode = 0;
  uint64_t keywords = 0;
  // TimeCreated/@SystemTime as FILETIME ticks: 100 ns since 1601-01-01 UTC (Windows precision).
  std::optional<int64_t> time_created;
  uint64_t record_id = 0;  // EventRecordID
  std::string activity_id;
  std::string related_activity_id;
  std::optional<uint32_t> process_id;
  std::optional<uint32_t> thread_id;
  std::string channel;
  std::string computer;
  std::string user_sid;  // Security/@UserID
};

// System fields by the names Sigma's Windows taxonomy uses.
enum class SystemField {
  kProviderName,
  kProviderGuid,
  kEventSourceName,
  kEventId,
  kQualifiers,
  kVersion,
  kLevel,
  kTask,
  kOpcode,
  kKeywords,
  kTimeCreated,
  kEventRecordId,
  kActivityId,
  kRelatedActivityId,
  kProcessId,
  kThreadId,
  kChannel,
  kComputer,
  kUserId,
};

// Maps "EventID", "Provider_Name", "Channel", "Computer", ... to a SystemField.
std::optional<SystemField> systemFieldByName(std::string_view name);
const char* systemFieldName(SystemField field);

struct EventField {
  std::string name;
  std::string value;
  uint32_t hash = 0;  // fieldHash(name)
  // isVerbatimJsonString(name): found with the hash, once per name, since names repeat from one
  // event to the next and the event JSON would otherwise check each again.
  bool plain_name = true;
};

struct RenderingInfo {
  std::string culture;
  std::string message;
  std::string level;
  std::string task;
  std::string opcode;
  std::string channel;
  std::string provider;
  std::vector<std::string> keywords;
};

// Where an event came from, so that any output can be traced back to its input.
struct EventOrigin {
  std::string source;     // file path, channel name or trace file
  uint64_t position = 0;  // record index (EVTX), byte offset (trace file, XML stream)
  // Trace files: "<file identity>#<generation>", the file's name-independent identity, so that
  // an entry read again after a rename or restart gets the same key.
  std::string file_id;
};

class Event {
 public:
  enum class DataSection { kNone, kEventData, kUserData };

  EventSystem system;
  DataSection data_section = DataSection::kNone;
  std::string user_data_root;   // element name under <UserData>, e.g. "LogFileCleared"
  std::vector<uint8_t> binary;  // EventData/Binary, decoded from hex
  std::optional<RenderingInfo> rendering;
  EventOrigin origin;

  // Data fields in document order. Unnamed EventData/Data elements are all named "Data";
  // UserData elements are flattened to leaf names ("SubjectUserSid"), nested ones to
  // "Parent.Child", attributes to "Element@attr". Names may repeat: a field is multi-valued.
  std::span<const EventField> fields() const { return {fields_.all.data(), fields_.live}; }
  void addField(std::string name, std::string value);
  void reserveFields(size_t n) { fields_.all.reserve(n); }

  // For a parser refilling one Event per event: appends a field named `name` (valid UTF-8)
  // with an empty value, to be filled in place (assign, not move). It is the field kept at its
  // position by clear() when there is one: when that field had the same name (the same kind of
  // event again), the name is neither copied nor hashed again.
  EventField& appendField(std::string_view name);

  // Empties the event (as a default-constructed one) but keeps what its strings and vectors
  // allocated, within a bound, its fields too (emptied, in place, for appendField), so that the
  // next event parsed into it allocates and moves nothing once warm. Copies do not carry the
  // kept fields. Also valid on a moved-from event.
  void clear();
  // Fields clear() keeps for the next event (not part of this one).
  size_t keptFields() const { return fields_.all.size() - fields_.live; }

  // First value of a data field, or nullptr. No allocation.
  const std::string* find(const FieldKey& key) const;
  const std::string* find(std::string_view name) const;

  // Calls fn(const std::string&) for every value of a data field; returns how many.
  template <typename Fn>
  size_t forEachValue(const FieldKey& key, Fn&& fn) const {
    size_t n = 0;
    for (const auto& f : fields()) {
      if (f.hash == key.hash() && f.name == key.name()) {
        ++n;
        fn(f.value);
      }
    }
    return n;
  }

  // A System field as text, rendered into buf when numeric. Empty optional when absent.
  std::optional<std::string_view> systemText(SystemField field, std::string& buf) const;

  // The memory this event holds (itself and what its members allocate): what the correlation
  // engine charges to its byte budget for each window that keeps the event.
  size_t memoryBytes() const;

 private:
  // The event's fields, [0, live), then the ones clear() kept for the next event (empty
  // values, names and hashes kept). A copy takes the event's fields only.
  struct Fields {
    std::vector<EventField> all;
    size_t live = 0;
    Fields() = default;
    Fields(const Fields& o) : all(o.all.begin(), o.all.begin() + o.live), live(o.live) {}
    Fields& operator=(const Fields& o) {
      if (this != &o) {
        all.assign(o.all.begin(), o.all.begin() + o.live);
        live = o.live;
      }
      return *this;
    }
    Fields(Fields&& o) noexcept : all(std::move(o.all)), live(o.live) { o.clearAll(); }
    Fields& operator=(Fields&& o) noexcept {
      if (this != &o) {
        all = std::move(o.all);
        live = o.live;
        o.clearAll();
      }
      return *this;
    }

   private:
    void clearAll() {
      all.clear();
      live = 0;
    }
  };
  Fields fields_;
};

}  // namespace t0w

namespace t0w {
// Stable identity of an event for dedup and correlation: "<Channel>:<EventRecordID>" for channel
// events, "tracefile:<file_id>@<position>" for trace-file entries, "<source>@<position>" else.
std::string eventKey(const Event& event);
}  // namespace t0w
