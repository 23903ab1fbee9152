// Fleet health: named issues per agent (and source), computed from the agents' heartbeats
// (agent_status records) and what the collector stored, in the spirit of Defender for Identity's
// sensor health issues. HealthRules turns one agent's state into the conditions that hold now;
// HealthTracker reconciles them with the stored issues: a new condition opens an issue, a
// condition that still holds refreshes last_seen, one that cleared closes it; a suppressed issue
// stays suppressed until its time passes (and closes when its condition clears). Every opening
// and closing is returned, for notifications.
//
// Codes (severity): agent_silent (high): no heartbeat for dashboard.silent_after_seconds;
// source_absent (medium): a configured channel or folder does not exist; source_failing (high):
// a source fails or may not read; events_dropped (high): the queue dropped events since the
// previous heartbeat (a delta, not the total); event_gap (medium): gap records since the
// previous heartbeat; dead_letters (high): batches dead-lettered since the previous heartbeat;
// audit_policy (medium): enabled rules that cannot fire on the host; queue_pressure (medium):
// the queue near its cap or a log near wrapping over unread events; clock_skew (medium);
// agent_outdated (low); credential_expiring (medium): the agent's credential is older than
// health.credential_max_age_days minus the warning; rules_rejected (low); resource_limit
// (medium): the agent is over its CPU or memory ceiling and throttles itself.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/collector/config.h"
#include "tools/collector/storage.h"

namespace t0w::collector {

struct HealthPolicy {
  int silent_after_seconds = 600;
  double clock_skew_seconds = 120;
  std::string minimum_agent_version;  // empty: the newest version in the fleet
  int credential_max_age_days = 365;  // 0: credentials do not age
  int credential_warn_days = 30;
  double queue_pressure_ratio = 0.8;          // stored bytes / cap
  double time_to_wrap_warn_seconds = 86'400;  // a log overwrites unread events within a day
};

HealthPolicy healthPolicyOf(const CollectorConfig& config);

struct HealthCondition {
  std::string code;
  std::string source;
  std::string severity;
  std::string detail;
};

// Every code, in the order the dashboard lists them.
const std::vector<std::string>& healthCodes();
// "high" > "medium" > "low": for sorting the fleet (worst first).
int severityRank(const std::string& severity);

// -1, 0, 1: dotted versions compared number by number ("0.10.0" > "0.9.1").
int compareVersions(const std::string& a, const std::string& b);

// The conditions that hold for `agent` at `now` (Unix microseconds). `fleet_version`: the
// newest version any agent reports (for agent_outdated without a configured minimum).
std::vector<HealthCondition> evaluateAgentHealth(const AgentRecord& agent,
                                                 const HealthPolicy& policy, int64_t now,
                                                 const std::string& fleet_version);

struct HealthChange {
  enum class Kind { kOpened, kClosed };
  Kind kind = Kind::kOpened;
  HealthIssue issue;
};

class HealthTracker {
 public:
  HealthTracker(Storage& storage, HealthPolicy policy);
  // Evaluates every enrolled, not revoked agent once; returns what opened and closed.
  Result<std::vector<HealthChange>> evaluate(int64_t now);
  // Suppresses an open issue until `until` (by `user`); false when there is no such issue.
  Result<std::optional<HealthIssue>> suppress(int64_t id, int64_t until, const std::string& user);

 private:
  Storage& storage_;
  HealthPolicy policy_;
};

nlohmann::json healthIssueJson(const HealthIssue& issue);

}  // namespace t0w::collector
