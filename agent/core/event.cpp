#include "agent/core/event.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "common/core/time.h"
#include "common/text/json_string.h"

namespace t0w {
namespace {

struct SystemName {
  std::string_view name;
  SystemField field;
};

// Names as Sigma's Windows taxonomy and the common EVTX tools spell them.
constexpr std::array<SystemName, 22> kSystemNames{{
    {"Provider_Name", SystemField::kProviderName},
    {"Provider_Guid", SystemField::kProviderGuid},
    {"EventSourceName", SystemField::kEventSourceName},
    {"EventID", SystemField::kEventId},
    {"Qualifiers", SystemField::kQualifiers},
    {"Version", SystemField::kVersion},
    {"Level", SystemField::kLevel},
    {"Task", SystemField::kTask},
    {"Opcode", SystemField::kOpcode},
    {"Keywords", SystemField::kKeywords},
    {"TimeCreated", SystemField::kTimeCreated},
    {"TimeCreated_SystemTime", SystemField::kTimeCreated},
    {"EventRecordID", SystemField::kEventRecordId},
    {"ActivityID", SystemField::kActivityId},
    {"RelatedActivityID", SystemField::kRelatedActivityId},
    {"ProcessID", SystemField::kProcessId},
    {"Execution_ProcessID", SystemField::kProcessId},
    {"ThreadID", SystemField::kThreadId},
    {"Channel", SystemField::kChannel},
    {"Computer", SystemField::kComputer},
    {"UserID", SystemField::kUserId},
    {"Security_UserID", SystemField::kUserId},
}};

template <typename T>
std::string_view renderNumber(T value, std::string& buf) {
  std::array<char, 24> tmp{};
  auto [end, ec] = std::to_chars(tmp.data(), tmp.data() + tmp.size(), value);
  buf.assign(tmp.data(), end);
  return buf;
}

std::optional<std::string_view> nonEmpty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return std::string_view(s);
}

}  // namespace

std::optional<SystemField> systemFieldByName(std::string_view name) {
  for (const auto& entry : kSystemNames) {
    if (entry.name == name) return entry.field;
  }
  return std::nullopt;
}

const char* systemFieldName(SystemField field) {
  for (const auto& entry : kSystemNames) {
    if (entry.field == field) return entry.name.data();
  }
  return "?";
}

namespace {

// Heap bytes of a string (none while it fits the small-string buffer).
size_t heapBytes(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

}  // namespace

size_t Event::memoryBytes() const {
  size_t n = sizeof(Event) + binary.capacity() + fields_.all.capacity() * sizeof(EventField);
  for (const std::string* s :
       {&system.provider_name, &system.provider_guid, &system.event_source_name,
        &system.activity_id, &system.related_activity_id, &system.channel, &system.computer,
        &system.user_sid, &user_data_root, &origin.source, &origin.file_id}) {
    n += heapBytes(*s);
  }
  for (const EventField& f : fields_.all) n += heapBytes(f.name) + heapBytes(f.value);
  if (rendering) {
    for (const std::string* s :
         {&rendering->culture, &rendering->message, &rendering->level, &rendering->task,
          &rendering->opcode, &rendering->channel, &rendering->provider}) {
      n += heapBytes(*s);
    }
    n += rendering->keywords.capacity() * sizeof(std::string);
    for (const auto& k : rendering->keywords) n += heapBytes(k);
  }
  return n;
}

void Event::addField(std::string name, std::string value) {
  const uint32_t h = fieldHash(name);
  const bool plain = isVerbatimJsonString(name);
  if (fields_.live < fields_.all.size()) {
    fields_.all[fields_.live++] = EventField{std::move(name), std::move(value), h, plain};
  } else {
    fields_.all.push_back(EventField{std::move(name), std::move(value), h, plain});
    ++fields_.live;
  }
}

EventField& Event::appendField(std::string_view name) {
  if (fields_.live == fields_.all.size()) {
    EventField& f = fields_.all.emplace_back();
    ++fields_.live;
    f.name.assign(name);
    f.hash = fieldHash(name);
    f.plain_name = isVerbatimJsonString(name);
    return f;
  }
  EventField& f = fields_.all[fields_.live++];  // kept by clear(): its value is empty
  if (f.name != name) {
    f.name.assign(name);
    f.hash = fieldHash(name);
    f.plain_name = isVerbatimJsonString(name);
  }
  return f;
}

namespace {

// What clear() keeps: enough for real events, not what a rare huge one allocated (at most
// about 256 fields of 1 KiB names and values, some 512 KiB, per parser).
constexpr size_t kKeepStringBytes = 1024;
constexpr size_t kKeepFields = 256;

// Empties s, dropping its buffer when it is large.
void emptyKeeping(std::string& s) {
  if (s.capacity() > kKeepStringBytes) {
    std::string().swap(s);
  } else {
    s.clear();
  }
}

}  // namespace

void Event::clear() {
  // Member by member, in place, so that strings and vectors keep their buffers. The structured
  // bindings name every member: adding one to Event, EventSystem or EventOrigin fails to compile
  // here until it is reset below too. Values not emptied come from a default Event.
  static const Event kDefault;
  auto& [sys, section, root, bin, rendering_info, orig, fields] = *this;
  auto& [provider_name, provider_guid, event_source_name, event_id, qualifiers, version, level,
         task, opcode, keywords, time_created, record_id, activity_id, related_activity_id,
         process_id, thread_id, channel, computer, user_sid] = sys;
  const EventSystem& d = kDefault.system;
  for (std::string* str : {&provider_name, &provider_guid, &event_source_name, &activity_id,
                           &related_activity_id, &channel, &computer, &user_sid}) {
    emptyKeeping(*str);
  }
  event_id = d.event_id;
  qualifiers = d.qualifiers;
  version = d.version;
  level = d.level;
  task = d.task;
  opcode = d.opcode;
  keywords = d.keywords;
  time_created = d.time_created;
  record_id = d.record_id;
  process_id = d.process_id;
  thread_id = d.thread_id;
  section = kDefault.data_section;
  emptyKeeping(root);
  if (bin.capacity() <= kKeepStringBytes) {
    bin.clear();
  } else {
    std::vector<uint8_t>().swap(bin);
  }
  rendering_info.reset();  // rare: its strings are not kept
  auto& [source, position, file_id] = orig;
  emptyKeeping(source);
  position = kDefault.origin.position;
  emptyKeeping(file_id);
  // The fields stay where they are, emptied, for appendField() to refill in document order: the
  // next event's first field gets this one's first field's strings (similar events, similar
  // sizes), and its name and hash when it has the same name. Those kept from a bigger event
  // before stay behind them, so that a bigger event after a smaller one allocates nothing.
  std::vector<EventField>& all = fields.all;
  if (all.size() > kKeepFields) all.resize(kKeepFields);
  for (size_t i = 0; i < std::min(fields.live, all.size()); ++i) {
    EventField& f = all[i];
    if (f.name.capacity() > kKeepStringBytes) {
      std::string().swap(f.name);
      f.hash = fieldHash("");
      f.plain_name = true;
    }
    emptyKeeping(f.value);
  }
  fields.live = 0;
  // A huge event's vector is not carried to the next.
  if (all.capacity() > kKeepFields) all.shrink_to_fit();
}

const std::string* Event::find(const FieldKey& key) const {
  for (const auto& f : fields()) {
    if (f.hash == key.hash() && f.name == key.name()) return &f.value;
  }
  return nullptr;
}

const std::string* Event::find(std::string_view name) const {
  const uint32_t h = fieldHash(name);
  for (const auto& f : fields()) {
    if (f.hash == h && f.name == name) return &f.value;
  }
  return nullptr;
}

std::optional<std::string_view> Event::systemText(SystemField field, std::string& buf) const {
  const EventSystem& s = system;
  switch (field) {
    case SystemField::kProviderName:
      return nonEmpty(s.provider_name);
    case SystemField::kProviderGuid:
      return nonEmpty(s.provider_guid);
    case SystemField::kEventSourceName:
      return nonEmpty(s.event_source_name);
    case SystemField::kEventId:
      return renderNumber(s.event_id, buf);
    case SystemField::kQualifiers:
      if (!s.qualifiers) return std::nullopt;
      return renderNumber(*s.qualifiers, buf);
    case SystemField::kVersion:
      return renderNumber(unsigned{s.version}, buf);
    case SystemField::kLevel:
      return renderNumber(unsigned{s.level}, buf);
    case SystemField::kTask:
      return renderNumber(unsigned{s.task}, buf);
    case SystemField::kOpcode:
      return renderNumber(unsigned{s.opcode}, buf);
    case SystemField::kKeywords:
      buf = formatHex64(s.keywords);
      return std::string_view(buf);
    case SystemField::kTimeCreated:
      if (!s.time_created) return std::nullopt;
      buf = formatFiletime(*s.time_created);
      return std::string_view(buf);
    case SystemField::kEventRecordId:
      return renderNumber(s.record_id, buf);
    case SystemField::kActivityId:
      return nonEmpty(s.activity_id);
    case SystemField::kRelatedActivityId:
      return nonEmpty(s.related_activity_id);
    case SystemField::kProcessId:
      if (!s.process_id) return std::nullopt;
      return renderNumber(*s.process_id, buf);
    case SystemField::kThreadId:
      if (!s.thread_id) return std::nullopt;
      return renderNumber(*s.thread_id, buf);
    case SystemField::kChannel:
      return nonEmpty(s.channel);
    case SystemField::kComputer:
      return nonEmpty(s.computer);
    case SystemField::kUserId:
      return nonEmpty(s.user_sid);
  }
  return std::nullopt;
}

}  // namespace t0w

namespace t0w {
std::string eventKey(const Event& event) {
  if (!event.system.channel.empty()) {
    return event.system.channel + ":" + std::to_string(event.system.record_id);
  }
  if (!event.origin.file_id.empty()) {
    return "tracefile:" + event.origin.file_id + "@" + std::to_string(event.origin.position);
  }
  return event.origin.source + "@" + std::to_string(event.origin.position);
}
}  // namespace t0w
