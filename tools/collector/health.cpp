#include "tools/collector/health.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "common/core/time.h"
#include "tools/collector/http_util.h"

namespace t0w::collector {
namespace {

constexpr int64_t kSecond = 1'000'000;

Json parseObject(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  return j.is_object() ? j : Json::object();
}

// A counter of a heartbeat: a number at `path`, 0 when absent or null.
int64_t counter(const Json& j, std::initializer_list<const char*> path) {
  const Json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return 0;
    cur = &(*cur)[k];
  }
  return cur->is_number() ? cur->get<int64_t>() : 0;
}

// How much a cumulative counter grew between two heartbeats. A counter that went down was reset
// (new queue file, restarted agent): all of the new value is new. No previous heartbeat: the
// whole value counts once.
int64_t delta(const Json& now, const Json& prev, std::initializer_list<const char*> path) {
  const int64_t cur = counter(now, path);
  if (prev.empty()) return cur;
  const int64_t before = counter(prev, path);
  return cur >= before ? cur - before : cur;
}

// Counters that live only as long as the agent process (gaps): a restart resets them.
int64_t runDelta(const Json& now, const Json& prev, std::initializer_list<const char*> path) {
  if (!prev.empty() && counter(now, {"uptime_seconds"}) < counter(prev, {"uptime_seconds"})) {
    return counter(now, path);
  }
  return delta(now, prev, path);
}

std::string str(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::string keyOf(const std::string& code, const std::string& source) {
  return code + "\n" + source;
}

}  // namespace

HealthPolicy healthPolicyOf(const CollectorConfig& c) {
  HealthPolicy p;
  p.silent_after_seconds = c.silent_after_seconds;
  p.clock_skew_seconds = c.health.clock_skew_seconds;
  p.minimum_agent_version = c.health.minimum_agent_version;
  p.credential_max_age_days = c.health.credential_max_age_days;
  p.credential_warn_days = c.health.credential_warn_days;
  p.queue_pressure_ratio = c.health.queue_pressure_ratio;
  p.time_to_wrap_warn_seconds = c.health.time_to_wrap_warn_seconds;
  return p;
}

const std::vector<std::string>& healthCodes() {
  static const std::vector<std::string> codes = {
      "agent_silent",        "source_absent",  "source_failing", "events_dropped", "event_gap",
      "dead_letters",        "audit_policy",   "queue_pressure", "clock_skew",     "agent_outdated",
      "credential_expiring", "rules_rejected", "resource_limit"};
  return codes;
}

int severityRank(const std::string& severity) {
  if (severity == "high") return 3;
  if (severity == "medium") return 2;
  if (severity == "low") return 1;
  return 0;
}

int compareVersions(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    auto part = [](const std::string& s, size_t& p) {
      int64_t n = 0;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') n = n * 10 + (s[p++] - '0');
      while (p < s.size() && s[p] != '.') ++p;  // "1-rc" counts as 1
      if (p < s.size()) ++p;
      return n;
    };
    const int64_t x = part(a, i), y = part(b, j);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

std::vector<HealthCondition> evaluateAgentHealth(const AgentRecord& a, const HealthPolicy& policy,
                                                 int64_t now, const std::string& fleet_version) {
  std::vector<HealthCondition> out;
  const auto add = [&](const char* code, std::string source, const char* severity,
                       std::string detail) {
    out.push_back(HealthCondition{code, std::move(source), severity, std::move(detail)});
  };
  const int64_t heard = a.last_heartbeat.value_or(a.last_seen.value_or(a.enrolled_at));
  if (now - heard > int64_t{policy.silent_after_seconds} * kSecond) {
    add("agent_silent", "", "high",
        a.last_heartbeat ? "no heartbeat for " + std::to_string((now - heard) / kSecond) + " s"
                         : "no heartbeat received yet (enrolled or last seen " +
                               std::to_string((now - heard) / kSecond) + " s ago)");
  }
  if (policy.credential_max_age_days > 0) {
    const int64_t issued = a.rotated_at.value_or(a.enrolled_at);
    const int64_t expires = issued + int64_t{policy.credential_max_age_days} * 86400 * kSecond;
    if (now >= expires - int64_t{policy.credential_warn_days} * 86400 * kSecond) {
      add("credential_expiring", "", "medium",
          now >= expires
              ? "the agent's credential is older than " +
                    std::to_string(policy.credential_max_age_days) +
                    " days: rotate it (agents rotate)"
              : "the agent's credential reaches " + std::to_string(policy.credential_max_age_days) +
                    " days in " + std::to_string((expires - now) / (86400 * kSecond) + 1) +
                    " day(s): rotate it (agents rotate)");
    }
  }
  const std::string minimum =
      policy.minimum_agent_version.empty() ? fleet_version : policy.minimum_agent_version;
  if (!a.version.empty() && !minimum.empty() && compareVersions(a.version, minimum) < 0) {
    add("agent_outdated", "", "low", "version " + a.version + " is older than " + minimum);
  }

  const Json st = parseObject(a.status);
  if (str(st, "type") != "agent_status" || !st.contains("sources")) return out;
  const Json prev = parseObject(a.prev_status);

  for (const auto& s : st["sources"]) {
    const std::string name = str(s, "name");
    const std::string state = str(s, "state");
    const std::string detail = str(s, "detail");
    if (state == "absent") {
      add("source_absent", name, "medium",
          name + " does not exist on this host" + (detail.empty() ? "" : ": " + detail));
    } else if (state == "failing" || state == "access_denied") {
      add("source_failing", name, "high",
          name + " is " + state + (detail.empty() ? "" : ": " + detail));
    }
    if (s.contains("time_to_wrap_seconds") && s["time_to_wrap_seconds"].is_number() &&
        s["time_to_wrap_seconds"].get<double>() < policy.time_to_wrap_warn_seconds) {
      add("queue_pressure", name, "medium",
          name + " overwrites unread events in " +
              std::to_string(static_cast<int64_t>(s["time_to_wrap_seconds"].get<double>())) + " s");
    }
  }
  if (const int64_t n = delta(st, prev, {"drops", "events"}); n > 0) {
    add("events_dropped", "", "high",
        std::to_string(n) + " events dropped (queue full) since the previous heartbeat");
  }
  if (const int64_t n = runDelta(st, prev, {"gaps"}); n > 0) {
    add("event_gap", "", "medium",
        std::to_string(n) + " event log gap(s) since the previous heartbeat");
  }
  if (const int64_t n = delta(st, prev, {"dead_letters", "chunks"}); n > 0) {
    add("dead_letters", "", "high",
        std::to_string(n) +
            " chunk(s) dead-lettered (refused by the collector) since the "
            "previous heartbeat");
  }
  if (st.contains("audit") && st["audit"].is_object() &&
      st["audit"].value("rules_cannot_fire", Json::array()).size() > 0) {
    const Json& blocked = st["audit"]["rules_cannot_fire"];
    std::string detail = std::to_string(blocked.size()) + " enabled rule(s) cannot fire: ";
    for (size_t i = 0; i < blocked.size() && i < 3; ++i) {
      detail += (i ? "; " : "") + str(blocked[i], "rule") + " (" + str(blocked[i], "reason") + ")";
    }
    add("audit_policy", "", "medium", detail);
  }
  const int64_t cap = counter(st, {"queue", "max_bytes"});
  const int64_t bytes = counter(st, {"queue", "bytes"});
  if (cap > 0 &&
      static_cast<double>(bytes) >= policy.queue_pressure_ratio * static_cast<double>(cap)) {
    add("queue_pressure", "", "medium",
        "queue holds " + std::to_string(bytes) + " of " + std::to_string(cap) + " bytes");
  }
  if (st.contains("clock_offset_ms") && st["clock_offset_ms"].is_number()) {
    const double offset = st["clock_offset_ms"].get<double>() / 1000.0;
    if (std::abs(offset) > policy.clock_skew_seconds) {
      add("clock_skew", "", "medium",
          "agent clock is " + std::to_string(static_cast<int64_t>(-offset)) +
              " s off the collector's (Kerberos fails beyond 300 s)");
    }
  }
  if (const int64_t n = counter(st, {"rules", "rejected"}); n > 0) {
    add("rules_rejected", "", "low", std::to_string(n) + " rule file(s) rejected at load");
  }
  if (st.contains("load") && st["load"].is_object() && st["load"].value("throttled", false)) {
    add("resource_limit", "", "medium",
        std::string("over its ") + (st["load"].value("over_memory", false) ? "memory" : "CPU") +
            " ceiling: backfill and rule evaluation slowed (cpu " +
            std::to_string(counter(st, {"process", "cpu_percent"})) + "%, memory " +
            std::to_string(counter(st, {"process", "memory_bytes"}) >> 20) + " MB)");
  }
  return out;
}

HealthTracker::HealthTracker(Storage& storage, HealthPolicy policy)
    : storage_(storage), policy_(std::move(policy)) {}

namespace {
std::mutex& trackerMutex() {
  static std::mutex mu;  // evaluate() and suppress() rewrite the same rows
  return mu;
}
}  // namespace

Result<std::vector<HealthChange>> HealthTracker::evaluate(int64_t now) {
  std::lock_guard lock(trackerMutex());
  auto agents = storage_.listAgents();
  if (!agents) return agents.error();
  std::string fleet_version;
  for (const auto& a : *agents) {
    if (!a.revoked_at && compareVersions(a.version, fleet_version) > 0) fleet_version = a.version;
  }
  std::vector<HealthChange> changes;
  for (const auto& a : *agents) {
    std::vector<HealthCondition> conditions;
    if (!a.revoked_at) conditions = evaluateAgentHealth(a, policy_, now, fleet_version);
    HealthQuery q;
    q.agent = a.name;
    q.not_closed = true;
    auto current = storage_.queryHealth(q);
    if (!current) return current.error();
    std::map<std::string, HealthIssue> known;
    for (auto& h : *current) known.emplace(keyOf(h.code, h.source), std::move(h));
    for (const auto& c : conditions) {
      auto it = known.find(keyOf(c.code, c.source));
      if (it == known.end()) {
        HealthIssue h{0,   a.name, c.code, c.source,     c.severity,   c.detail,
                      now, now,    "open", std::nullopt, std::nullopt, std::nullopt};
        auto id = storage_.addHealthIssue(h);
        if (!id) return id.error();
        h.id = *id;
        changes.push_back({HealthChange::Kind::kOpened, h});
        continue;
      }
      HealthIssue h = it->second;
      const std::string it_state = h.state;
      known.erase(it);
      h.last_seen = now;
      h.detail = c.detail;
      h.severity = c.severity;
      bool reopened = false;
      if (h.state == "suppressed" && h.suppressed_until && *h.suppressed_until <= now) {
        h.state = "open";  // the suppression ran out and the condition still holds
        reopened = true;
      }
      // Written only if nobody changed the issue since it was read (a user suppressing it
      // through another instance): that change wins, and the next round sees it.
      auto written = storage_.updateHealthIssueIf(h, it_state);
      if (!written) return written.error();
      if (reopened && *written) changes.push_back({HealthChange::Kind::kOpened, h});
    }
    for (auto& [key, h] : known) {  // conditions that cleared
      const std::string was = h.state;
      h.state = "closed";
      h.closed_at = now;
      auto written = storage_.updateHealthIssueIf(h, was);
      if (!written) return written.error();
      if (*written) changes.push_back({HealthChange::Kind::kClosed, h});
    }
    if (Status s = storage_.markHealthEvaluated(a.name, a.status); !s) return s.error();
  }
  return changes;
}

Result<std::optional<HealthIssue>> HealthTracker::suppress(int64_t id, int64_t until,
                                                           const std::string& user) {
  std::lock_guard lock(trackerMutex());
  auto h = storage_.healthIssueById(id);
  if (!h) return h.error();
  if (!*h || (*h)->state == "closed") return std::optional<HealthIssue>();
  HealthIssue issue = **h;
  const std::string was = issue.state;
  issue.state = "suppressed";
  issue.suppressed_until = until;
  issue.suppressed_by = user;
  // Not over a change another instance's tracker made meanwhile (closed it): then no such issue.
  auto written = storage_.updateHealthIssueIf(issue, was);
  if (!written) return written.error();
  if (!*written) return std::optional<HealthIssue>();
  return std::optional<HealthIssue>(issue);
}

Json healthIssueJson(const HealthIssue& h) {
  return Json{{"id", h.id},
              {"agent", h.agent},
              {"code", h.code},
              {"source", h.source.empty() ? Json(nullptr) : Json(h.source)},
              {"severity", h.severity},
              {"detail", h.detail},
              {"first_seen", isoTime(h.first_seen)},
              {"last_seen", isoTime(h.last_seen)},
              {"state", h.state},
              {"closed_at", isoTime(h.closed_at)},
              {"suppressed_until", isoTime(h.suppressed_until)},
              {"suppressed_by", h.suppressed_by ? Json(*h.suppressed_by) : Json(nullptr)}};
}

}  // namespace t0w::collector
