// Storage records (storage.h) from the text rows of SELECTs: the column list each mapper reads,
// in order, and the mapper. Used by SqlStorage.
#pragma once

#include "tools/collector/sql_conn.h"
#include "tools/collector/storage.h"

namespace t0w::collector {

inline constexpr const char* kAgentColumns =
    "name, agent_id, hostname, version, enrolled_at, last_seen, last_batch, batches, events, "
    "alerts, drops, gaps, status, conflicts, enrolled_via, revoked_at, rotated_at, prev_status, "
    "last_heartbeat";

AgentRecord agentFromRow(const SqlRow& r);

inline constexpr const char* kHealthColumns =
    "id, agent, code, source, severity, detail, first_seen, last_seen, state, closed_at, "
    "suppressed_until, suppressed_by";

HealthIssue healthFromRow(const SqlRow& r);

inline constexpr const char* kEventColumns =
    "id, key, agent, host, channel, event_id, record_id, time, received, body";

inline constexpr const char* kAlertColumns =
    "id, key, agent, host, rule_id, rule_title, level, time, received, event_key, body, "
    "acknowledged_by, acknowledged_at";

StoredEvent eventFromRow(const SqlRow& r);
StoredAlert alertFromRow(const SqlRow& r);

}  // namespace t0w::collector
