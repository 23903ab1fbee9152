#include "agent/rules/alert_json.h"

#include "agent/core/event_json.h"
#include "common/core/time.h"

namespace t0w {

nlohmann::ordered_json alertToJson(const Alert& alert) {
  using Json = nlohmann::ordered_json;
  Json j;
  j["type"] = "alert";
  j["rule_id"] = alert.rule_id;
  j["rule_title"] = alert.rule_title;
  j["level"] = alert.level;
  j["tags"] = alert.tags;
  if (!alert.rule_file.empty()) j["rule_file"] = alert.rule_file;
  if (alert.time) j["time"] = formatFiletime(*alert.time);
  if (alert.event) j["event_key"] = eventKey(*alert.event);
  Json matched = Json::array();
  for (const auto& m : alert.matched)
    matched.push_back(Json{{"field", m.name}, {"value", m.value}});
  j["matched"] = std::move(matched);
  if (!alert.correlation_type.empty()) {
    Json c;
    c["type"] = alert.correlation_type;
    Json group = Json::object();
    for (const auto& g : alert.group_by) group[g.name] = g.value;
    c["group_by"] = std::move(group);
    c["contributing_rules"] = alert.contributing_rules;
    c["contributing_keys"] = alert.contributing_keys;
    j["correlation"] = std::move(c);
  }
  if (alert.event) j["event"] = eventToJson(*alert.event);
  return j;
}

namespace {

void member(std::string& out, std::string_view name) {
  out += ",\"";
  out += name;
  out += "\":";
}

void stringArray(std::string& out, const std::vector<std::string>& values) {
  out += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    appendJsonString(out, values[i]);
  }
  out += ']';
}

}  // namespace

// Written directly, byte for byte what alertToJson(alert).dump() gives (AlertJsonTest checks):
// a noisy rule can raise an alert for one event in four, and the JSON tree cost more than the
// rest of the alert's way to the queue.
std::string alertToJsonLine(const Alert& alert) {
  std::string out;
  out.reserve(1024);
  out += "{\"type\":\"alert\"";
  member(out, "rule_id");
  appendJsonString(out, alert.rule_id);
  member(out, "rule_title");
  appendJsonString(out, alert.rule_title);
  member(out, "level");
  appendJsonString(out, alert.level);
  member(out, "tags");
  stringArray(out, alert.tags);
  if (!alert.rule_file.empty()) {
    member(out, "rule_file");
    appendJsonString(out, alert.rule_file);
  }
  if (alert.time) {
    member(out, "time");
    appendJsonString(out, formatFiletime(*alert.time));
  }
  if (alert.event) {
    member(out, "event_key");
    appendJsonString(out, eventKey(*alert.event));
  }
  member(out, "matched");
  out += '[';
  for (size_t i = 0; i < alert.matched.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"field\":";
    appendJsonString(out, alert.matched[i].name);
    out += ",\"value\":";
    appendJsonString(out, alert.matched[i].value);
    out += '}';
  }
  out += ']';
  if (!alert.correlation_type.empty()) {
    member(out, "correlation");
    out += "{\"type\":";
    appendJsonString(out, alert.correlation_type);
    out += ",\"group_by\":{";
    // An object: a name given twice keeps its first place and its last value.
    for (size_t i = 0; i < alert.group_by.size(); ++i) {
      const std::string& name = alert.group_by[i].name;
      bool seen = false;
      for (size_t k = 0; k < i && !seen; ++k) seen = alert.group_by[k].name == name;
      if (seen) continue;
      const std::string* value = &alert.group_by[i].value;
      for (size_t k = i + 1; k < alert.group_by.size(); ++k) {
        if (alert.group_by[k].name == name) value = &alert.group_by[k].value;
      }
      if (out.back() != '{') out += ',';
      appendJsonString(out, name);
      out += ':';
      appendJsonString(out, *value);
    }
    out += '}';
    member(out, "contributing_rules");
    stringArray(out, alert.contributing_rules);
    member(out, "contributing_keys");
    stringArray(out, alert.contributing_keys);
    out += '}';
  }
  if (alert.event) {
    member(out, "event");
    appendEventJsonLine(out, *alert.event);
  }
  out += '}';
  return out;
}

}  // namespace t0w

namespace t0w {

void JsonlAlertWriter::onAlert(Alert&& alert) {
  ++count_;
  out_ << alertToJsonLine(alert) << '\n';
}

}  // namespace t0w
