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
};

// Fields a parser keeps between events so that the next event's fields reuse their strings
// (Event::clear hands them over, Event::appendField takes them back in document order). Held by
// the parser, not by the Event, whose size, copies and memoryBytes() stay as they are.
class SpareFields {
 public:
  size_t size() const { return fields_.size() - next_; }
  bool empty() const { return size() == 0; }
  // The fields appendField() will take, the next one first.
  std::span<const EventField> fields() const { return {fields_.data() + next_, size()}; }

 private:
  friend class Event;
  std::vector<EventField> fields_;  // [next_, end) not taken yet
  size_t next_ = 0;
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
  const std::vector<EventField>& fields() const { return fields_; }
  void addField(std::string name, std::string value);
  void reserveFields(size_t n) { fields_.reserve(n); }

  // For a parser refilling one Event per event: appends a field named `name` (valid UTF-8)
  // with an empty value, to be filled in place (assign, not move). Its strings are taken from
  // `spare` when it has any: when that field had the same name (the same kind of event again),
  // the name is neither copied nor hashed again.
  EventField& appendField(std::string_view name, SpareFields& spare);

  // Empties the event (as a default-constructed one) but keeps what its strings and vectors
  // allocated, within a bound, its fields in `spare`, so that the next event parsed into it
  // allocates nothing once warm. Also valid on a moved-from event.
  void clear(SpareFields& spare);

  // First value of a data field, or nullptr. No allocation.
  const std::string* find(const FieldKey& key) const;
  const std::string* find(std::string_view name) const;

  // Calls fn(const std::string&) for every value of a data field; returns how many.
  template <typename Fn>
  size_t forEachValue(const FieldKey& key, Fn&& fn) const {
    size_t n = 0;
    for (const auto& f : fields_) {
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
  std::vector<EventField> fields_;
};

}  // namespace t0w

namespace t0w {
// Stable identity of an event for dedup and correlation: "<Channel>:<EventRecordID>" for channel
// events, "tracefile:<file_id>@<position>" for trace-file entries, "<source>@<position>" else.
std::string eventKey(const Event& event);
}  // namespace t0w
