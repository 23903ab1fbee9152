#include "tools/collector/sql_rows.h"

namespace t0w::collector {
namespace {

int64_t num(const std::optional<std::string>& v) { return sqlInt(v); }
std::optional<int64_t> optNum(const std::optional<std::string>& v) { return sqlOptInt(v); }
std::string str(const std::optional<std::string>& v) { return v.value_or(""); }

}  // namespace

AgentRecord agentFromRow(const SqlRow& r) {
  AgentRecord a;
  a.name = str(r[0]);
  a.agent_id = str(r[1]);
  a.hostname = str(r[2]);
  a.version = str(r[3]);
  a.enrolled_at = num(r[4]);
  a.last_seen = optNum(r[5]);
  a.last_batch = str(r[6]);
  a.batches = num(r[7]);
  a.events = num(r[8]);
  a.alerts = num(r[9]);
  a.drops = num(r[10]);
  a.gaps = num(r[11]);
  a.status = str(r[12]);
  a.conflicts = num(r[13]);
  a.enrolled_via = str(r[14]);
  a.revoked_at = optNum(r[15]);
  a.rotated_at = optNum(r[16]);
  a.prev_status = str(r[17]);
  a.last_heartbeat = optNum(r[18]);
  return a;
}

HealthIssue healthFromRow(const SqlRow& r) {
  HealthIssue h;
  h.id = num(r[0]);
  h.agent = str(r[1]);
  h.code = str(r[2]);
  h.source = str(r[3]);
  h.severity = str(r[4]);
  h.detail = str(r[5]);
  h.first_seen = num(r[6]);
  h.last_seen = num(r[7]);
  h.state = str(r[8]);
  h.closed_at = optNum(r[9]);
  h.suppressed_until = optNum(r[10]);
  if (r[11]) h.suppressed_by = *r[11];
  return h;
}

StoredEvent eventFromRow(const SqlRow& r) {
  return StoredEvent{num(r[0]), str(r[1]), str(r[2]),    str(r[3]), str(r[4]),
                     num(r[5]), num(r[6]), optNum(r[7]), num(r[8]), str(r[9])};
}

StoredAlert alertFromRow(const SqlRow& r) {
  StoredAlert a{num(r[0]),  str(r[1]),    str(r[2]),    str(r[3]), str(r[4]),
                str(r[5]),  str(r[6]),    optNum(r[7]), num(r[8]), str(r[9]),
                str(r[10]), std::nullopt, std::nullopt};
  if (r[11]) a.acknowledged_by = *r[11];
  a.acknowledged_at = optNum(r[12]);
  return a;
}

}  // namespace t0w::collector
