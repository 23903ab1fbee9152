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

std::string alertToJsonLine(const Alert& alert) {
  return alertToJson(alert).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace t0w

namespace t0w {

void JsonlAlertWriter::onAlert(Alert&& alert) {
  ++count_;
  out_ << alertToJsonLine(alert) << '\n';
}

}  // namespace t0w
