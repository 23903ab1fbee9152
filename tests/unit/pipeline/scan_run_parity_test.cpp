// `scan` and `run` over the same input with the same rules raise the same alerts: both build
// their collectors in collectors/registry and evaluate through RuleStage; `run` stores the alerts
// in the queue, `scan` prints them. Input: the public EVTX attack recordings; rules: the built-in
// tier0 pack (with its correlations), every SigmaHQ Windows rule, and a correlation whose window
// only closes at the end of input (it needs the end-of-input flush that both do for replays).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "agent/cli/scan_pipeline.h"
#include "agent/pipeline/pipeline.h"
#include "agent/rules/rule_sources.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/corpus.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

// Fewer than 3 failed Kerberos pre-authentications per account in 10 minutes: a tumbling
// window (lt), decided when event time passes it or at the end of input.
constexpr const char* kQuietAccounts = R"(title: Kerberos pre-authentication failure
id: 0b8f2c51-1d1e-4b5e-9a53-6f1c4d1e0a01
name: kerberos_preauth_failure
status: test
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 4771
  condition: selection
level: low
---
title: Few Kerberos pre-authentication failures for one account
id: 0b8f2c51-1d1e-4b5e-9a53-6f1c4d1e0a02
status: test
correlation:
  type: event_count
  rules:
    - kerberos_preauth_failure
  group-by:
    - TargetUserName
  timespan: 10m
  condition:
    lt: 3
level: low
)";

std::string brief(const std::string& alert_json) {
  const auto j = nlohmann::json::parse(alert_json);
  return j.value("rule_id", "?") + " " + j.value("event_key", "?");
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(ScanRunParityTest, SameAlertsForTheSameInputAndRules) {
  T0W_CORPUS_OR_SKIP(corpus);
  t0w::testing::TempDir dir;
  const std::filesystem::path evtx = corpus / "evtx-attack-samples";
  const std::filesystem::path extra = dir.path() / "quiet_accounts.yml";
  std::ofstream(extra) << kQuietAccounts;
  RuleSources rules;
  rules.paths = {corpus / "sigma" / "rules" / "windows", extra};
  rules.packs = {t0w::testing::sourceDir() / "packs" / "tier0"};

  // scan: alerts as JSON lines on stdout.
  std::ostringstream out, err;
  cli::ScanOptions scan;
  scan.paths = {evtx};
  scan.rules = rules;
  ASSERT_EQ(cli::runScan(scan, {out, err}), cli::kExitOk) << err.str();
  std::vector<std::string> scanned;
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) scanned.push_back(line);
  }

  // run: the same folder as an evtx_replay source, alerts into the queue.
  LoadedRuleSet loaded = loadRuleSources(rules);
  ASSERT_TRUE(loaded.rules);
  t0w::testing::FakeClock clock;
  QueueOptions qo;
  qo.path = dir.path() / "queue.db";
  auto queue = EventQueue::open(qo, clock);
  ASSERT_TRUE(queue) << queue.error().toString();
  AgentMetrics metrics;
  SourceConfig source;
  source.type = SourceType::kEvtxReplay;
  source.path = evtx;
  {
    Pipeline pipeline({source}, **queue, loaded.rules.get(), metrics, nullptr);
    pipeline.start();
    pipeline.join();
  }
  std::vector<std::string> stored;
  for (;;) {
    auto lease = (*queue)->reserve(1000, 1 << 30, std::chrono::seconds(60));
    ASSERT_TRUE(lease);
    if (lease->empty()) break;
    for (const auto& r : lease->records) {
      if (r.kind == RecordKind::kAlert) stored.push_back(r.body);
    }
    ASSERT_TRUE((*queue)->ack(*lease));
  }

  ASSERT_GT(scanned.size(), 10u) << "the corpus and rules should raise alerts";
  // Compared whole (every field of every alert); a difference is printed as rule id + event key.
  const auto a = sorted(scanned), b = sorted(stored);
  std::vector<std::string> only_scan, only_run;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_scan));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_run));
  EXPECT_EQ(a.size(), b.size());
  for (const auto& x : only_scan) ADD_FAILURE() << "only in scan: " << brief(x);
  for (const auto& x : only_run) ADD_FAILURE() << "only in run: " << brief(x);
  // The end-of-input correlation is among them, in both.
  size_t quiet = 0;
  for (const auto& x : scanned)
    quiet += x.find("0b8f2c51-1d1e-4b5e-9a53-6f1c4d1e0a02") != std::string::npos;
  EXPECT_GT(quiet, 0u);
}

}  // namespace
}  // namespace t0w
