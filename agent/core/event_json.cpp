#include "agent/core/event_json.h"

#include "agent/core/time.h"

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
Json fieldsToJson(const std::vector<EventField>& fields) {
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
  return eventToJson(event).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace t0w
