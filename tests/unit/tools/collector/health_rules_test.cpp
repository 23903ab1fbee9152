// evaluateAgentHealth: each health code opens on its condition and not without it (the tracker
// closes an issue when its condition is no longer returned; storage_test runs the tracker).
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "tools/collector/health.h"

namespace t0w::collector {
namespace {

using Json = nlohmann::json;
constexpr int64_t kS = 1'000'000;

Json baseStatus() {
  return Json{{"type", "agent_status"},
              {"time", "t"},
              {"version", "1.2.0"},
              {"uptime_seconds", 100},
              {"sources", Json::array({Json{{"name", "Security"},
                                            {"kind", "eventlog"},
                                            {"state", "subscribed"},
                                            {"detail", ""},
                                            {"time_to_wrap_seconds", nullptr}}})},
              {"queue", {{"bytes", 100}, {"max_bytes", 1000}}},
              {"drops", {{"events", 10}}},
              {"gaps", 2},
              {"dead_letters", {{"chunks", 1}}},
              {"rules", {{"loaded", 40}, {"rejected", 0}}},
              {"load", {{"throttled", false}}},
              {"clock_offset_ms", 20},
              {"audit", {{"checked", true}, {"rules_cannot_fire", Json::array()}}}};
}

struct Fixture {
  AgentRecord agent;
  HealthPolicy policy;
  int64_t now = 1000 * kS;
  Fixture() {
    agent.name = "dc01";
    agent.version = "1.2.0";
    agent.enrolled_at = now - 10 * kS;
    agent.last_seen = now - 1 * kS;
    agent.last_heartbeat = now - 1 * kS;
    agent.status = baseStatus().dump();
    agent.prev_status = baseStatus().dump();  // same counters: no deltas
    policy.silent_after_seconds = 60;
  }
  std::vector<std::string> codes(const std::string& fleet = "1.2.0") const {
    std::vector<std::string> out;
    for (const auto& c : evaluateAgentHealth(agent, policy, now, fleet)) {
      out.push_back(c.code + (c.source.empty() ? "" : ":" + c.source));
    }
    return out;
  }
  void status(const std::function<void(Json&)>& edit) {
    Json j = baseStatus();
    edit(j);
    agent.status = j.dump();
  }
};

TEST(HealthRulesTest, AHealthyAgentHasNoIssue) {
  Fixture f;
  EXPECT_TRUE(f.codes().empty());
}

TEST(HealthRulesTest, AgentSilentAfterSilentAfterSecondsWithoutHeartbeat) {
  Fixture f;
  f.agent.last_heartbeat = f.now - 61 * kS;
  EXPECT_EQ(f.codes(), std::vector<std::string>{"agent_silent"});
  f.agent.last_heartbeat = f.now - 59 * kS;
  EXPECT_TRUE(f.codes().empty());
}

TEST(HealthRulesTest, SourceAbsentAndFailingNameTheSource) {
  Fixture f;
  f.status([](Json& j) { j["sources"][0]["state"] = "absent"; });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"source_absent:Security"});
  f.status([](Json& j) { j["sources"][0]["state"] = "access_denied"; });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"source_failing:Security"});
  f.status([](Json& j) { j["sources"][0]["state"] = "failing"; });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"source_failing:Security"});
}

TEST(HealthRulesTest, DropsGapsAndDeadLettersCountAsDeltasNotTotals) {
  Fixture f;
  f.status([](Json& j) { j["drops"]["events"] = 15; });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"events_dropped"});
  f.status([](Json& j) { j["gaps"] = 3; });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"event_gap"});
  f.status([](Json& j) { j["dead_letters"]["chunks"] = 2; });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"dead_letters"});
  // Totals above zero that did not grow: nothing.
  f.status([](Json&) {});
  EXPECT_TRUE(f.codes().empty());
  // A restarted agent counts gaps from zero: 1 after a restart is new.
  f.status([](Json& j) {
    j["gaps"] = 1;
    j["uptime_seconds"] = 5;
  });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"event_gap"});
}

TEST(HealthRulesTest, AuditPolicyQueuePressureClockSkewRulesAndLoad) {
  Fixture f;
  f.status([](Json& j) {
    j["audit"]["rules_cannot_fire"] =
        Json::array({Json{{"rule", "Kerberoasting"}, {"reason", "no Kerberos auditing"}}});
  });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"audit_policy"});
  f.status([](Json& j) { j["queue"]["bytes"] = 900; });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"queue_pressure"});
  f.status([](Json& j) { j["sources"][0]["time_to_wrap_seconds"] = 600.0; });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"queue_pressure:Security"});
  f.status([](Json& j) { j["clock_offset_ms"] = -200'000; });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"clock_skew"});
  f.status([](Json& j) { j["rules"]["rejected"] = 2; });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"rules_rejected"});
  f.status([](Json& j) { j["load"] = {{"throttled", true}, {"over_memory", true}}; });
  EXPECT_EQ(f.codes(), std::vector<std::string>{"resource_limit"});
}

TEST(HealthRulesTest, OutdatedAgainstTheFleetOrTheConfiguredMinimum) {
  Fixture f;
  EXPECT_EQ(f.codes("1.10.0"), std::vector<std::string>{"agent_outdated"});
  EXPECT_TRUE(f.codes("1.2.0").empty());
  f.policy.minimum_agent_version = "1.3";
  EXPECT_EQ(f.codes(), std::vector<std::string>{"agent_outdated"});
  EXPECT_EQ(compareVersions("0.10.0", "0.9.1"), 1);
  EXPECT_EQ(compareVersions("1.2", "1.2.0"), 0);
}

TEST(HealthRulesTest, CredentialExpiringBeforeItsMaximumAge) {
  Fixture f;
  f.policy.credential_max_age_days = 365;
  f.policy.credential_warn_days = 30;
  f.agent.enrolled_at = f.now - int64_t{336} * 86400 * kS;
  EXPECT_EQ(f.codes(), std::vector<std::string>{"credential_expiring"});
  f.agent.rotated_at = f.now - int64_t{10} * 86400 * kS;  // rotated: fine again
  EXPECT_TRUE(f.codes().empty());
}

TEST(HealthRulesTest, EveryCodeIsListedOnce) {
  const auto& codes = healthCodes();
  EXPECT_EQ(codes.size(), 13u);
  EXPECT_EQ(std::set<std::string>(codes.begin(), codes.end()).size(), codes.size());
}

}  // namespace
}  // namespace t0w::collector
