#include "tools/collector/conflict_alert.h"

#include <nlohmann/json.hpp>

#include "common/core/time.h"

namespace t0w::collector {

IngestRecord conflictAlert(const IngestBatch& batch, const std::vector<ConflictRecord>& conflicts) {
  using Json = nlohmann::ordered_json;
  constexpr size_t kExamples = 10;
  Json examples = Json::array();
  for (size_t i = 0; i < conflicts.size() && i < kExamples; ++i) {
    examples.push_back(Json{{"kind", conflicts[i].kind}, {"key", conflicts[i].key}});
  }
  const std::string time = formatFiletime(unixMicrosToFiletime(batch.received));
  Json body;
  body["type"] = "alert";
  body["rule_id"] = kConflictRuleId;
  body["rule_title"] = "Agent re-sent stored records with other content";
  body["level"] = "high";
  body["tags"] = Json::array({"tier0watch.integrity"});
  body["time"] = time;
  body["agent"] = batch.agent;
  body["agent_id"] = batch.agent_id;
  body["batch_id"] = batch.batch_id;
  body["conflicts"] = conflicts.size();
  body["examples"] = std::move(examples);
  body["message"] = "agent " + batch.agent + " sent " + std::to_string(conflicts.size()) +
                    " batch id(s) or record key(s) again with other content than stored "
                    "(queue or log rollback, or tampering); both versions are kept";
  IngestRecord r;
  r.kind = RecordKind::kAlert;
  r.key = batch.agent_id + "|collector|conflict|" + batch.batch_id + "|" +
          std::to_string(batch.received);
  r.host = batch.agent;
  r.time = batch.received;
  r.rule_id = std::string(kConflictRuleId);
  r.rule_title = body["rule_title"].get<std::string>();
  r.level = "high";
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

}  // namespace t0w::collector
