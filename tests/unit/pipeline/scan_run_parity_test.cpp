// `scan` and `run` over the same input with the same rules raise the same alerts: both build
// their collectors in collectors/registry and evaluate through RuleStage; `run` stores the alerts
// in the queue, `scan` prints them. Inputs: generated event XML (everywhere, also under Wine) and
// the public EVTX attack recordings; rules: the built-in tier0 pack (with its correlations), every
// SigmaHQ Windows rule, and a correlation whose window only closes at the end of input (it needs
// the end-of-input flush that both do for replays).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
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
#include "tests/support/under_wine.h"

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

// Alerts of `scan` (printed JSON lines) and of `run` (alert records in the queue) for the same
// inputs and rules. `sources`: the inputs as `run` configures them.
struct Alerts {
  std::vector<std::string> scanned;
  std::vector<std::string> stored;
};

Alerts scanAndRun(const std::vector<std::filesystem::path>& inputs,
                  const std::vector<SourceConfig>& sources, const RuleSources& rules,
                  const std::filesystem::path& dir) {
  Alerts out;
  std::ostringstream printed, err;
  cli::ScanOptions scan;
  scan.paths = inputs;
  scan.rules = rules;
  EXPECT_EQ(cli::runScan(scan, {printed, err}), cli::kExitOk) << err.str();
  std::istringstream lines(printed.str());
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.scanned.push_back(line);
  }

  LoadedRuleSet loaded = loadRuleSources(rules);
  EXPECT_TRUE(loaded.rules);
  if (!loaded.rules) return out;
  t0w::testing::FakeClock clock;
  std::filesystem::create_directories(dir);
  QueueOptions qo;
  qo.path = dir / "queue.db";
  auto queue = EventQueue::open(qo, clock);
  EXPECT_TRUE(queue) << queue.error().toString();
  if (!queue) return out;
  AgentMetrics metrics;
  {
    Pipeline pipeline(sources, **queue, loaded.rules.get(), metrics, nullptr);
    pipeline.start();
    pipeline.join();
  }
  for (;;) {
    auto lease = (*queue)->reserve(1000, 1 << 30, std::chrono::seconds(60));
    EXPECT_TRUE(lease);
    if (!lease || lease->empty()) break;
    for (const auto& r : lease->records) {
      if (r.kind == RecordKind::kAlert) out.stored.push_back(r.body);
    }
    EXPECT_TRUE((*queue)->ack(*lease));
  }
  return out;
}

// Compared whole (every field of every alert); a difference is printed as rule id + event key.
void expectSameAlerts(const Alerts& alerts) {
  const auto a = sorted(alerts.scanned), b = sorted(alerts.stored);
  std::vector<std::string> only_scan, only_run;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_scan));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_run));
  EXPECT_EQ(a.size(), b.size());
  for (const auto& x : only_scan) ADD_FAILURE() << "only in scan: " << brief(x);
  for (const auto& x : only_run) ADD_FAILURE() << "only in run: " << brief(x);
}

size_t countRule(const std::vector<std::string>& alerts, const std::string& id) {
  size_t n = 0;
  for (const auto& x : alerts) n += x.find(id) != std::string::npos;
  return n;
}

constexpr const char* kQuietId = "0b8f2c51-1d1e-4b5e-9a53-6f1c4d1e0a02";

// A 4771 (Kerberos pre-authentication failed) as rendered event XML.
std::string kerberosFailure(int record, int second, const std::string& user) {
  char time[64];
  std::snprintf(time, sizeof time, "2024-05-14T08:%02d:%02d.0000000Z", second / 60, second % 60);
  return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
         "<Provider Name='Microsoft-Windows-Security-Auditing' "
         "Guid='{54849625-5478-4994-A5BA-3E3B0328C30D}'/><EventID>4771</EventID>"
         "<TimeCreated SystemTime='" +
         std::string(time) + "'/><EventRecordID>" + std::to_string(record) +
         "</EventRecordID><Channel>Security</Channel><Computer>DC01.corp.example</Computer>"
         "</System><EventData><Data Name='TargetUserName'>" +
         user +
         "</Data><Data Name='ServiceName'>krbtgt/CORP.EXAMPLE</Data><Data Name='Status'>0x18</Data>"
         "<Data Name='PreAuthType'>2</Data><Data Name='IpAddress'>::ffff:10.0.0.9</Data>"
         "</EventData></Event>\n";
}

// Generated XML in two files, the built-in pack and a correlation decided at the end of input:
// runs everywhere, also under Wine.
TEST(ScanRunParityTest, SameAlertsForGeneratedXml) {
  t0w::testing::TempDir dir;
  const std::filesystem::path extra = dir.path() / "quiet_accounts.yml";
  std::ofstream(extra) << kQuietAccounts;
  std::vector<std::filesystem::path> inputs = {dir.path() / "a.xml", dir.path() / "b.xml"};
  {
    std::ofstream a(inputs[0], std::ios::binary), b(inputs[1], std::ios::binary);
    for (int i = 0; i < 40; ++i) {  // a spray: 40 accounts from one address in 80 s
      (i % 2 ? b : a) << kerberosFailure(100 + i, 2 * i, "user" + std::to_string(i % 20));
    }
  }
  std::vector<SourceConfig> sources;
  for (const auto& p : inputs) {
    SourceConfig s;
    s.type = SourceType::kXml;
    s.path = p;
    sources.push_back(s);
  }
  RuleSources rules;
  rules.paths = {extra};
  rules.packs = {t0w::testing::sourceDir() / "packs" / "tier0"};
  // One source at a time, as scan reads its inputs: run's sources in one thread each would
  // interleave their events into the shared correlations in another order.
  Alerts alerts;
  {
    Alerts first = scanAndRun({inputs[0]}, {sources[0]}, rules, dir.path() / "1");
    Alerts second = scanAndRun({inputs[1]}, {sources[1]}, rules, dir.path() / "2");
    alerts.scanned = first.scanned;
    alerts.scanned.insert(alerts.scanned.end(), second.scanned.begin(), second.scanned.end());
    alerts.stored = first.stored;
    alerts.stored.insert(alerts.stored.end(), second.stored.begin(), second.stored.end());
  }
  ASSERT_GT(alerts.scanned.size(), 0u);
  expectSameAlerts(alerts);
  EXPECT_GT(countRule(alerts.scanned, kQuietId), 0u) << "decided at the end of input";
}

// The public EVTX attack recordings with every SigmaHQ Windows rule and the pack.
TEST(ScanRunParityTest, SameAlertsForTheCorpusWithAllWindowsRules) {
  T0W_CORPUS_OR_SKIP(corpus);
  if (t0w::test::underWine()) {
    GTEST_SKIP() << "Wine's EvtQuery cannot open .evtx files (Win32 error 31); the Windows "
                    ".evtx reader is checked on Windows Server (docs/windows-verification.md)";
  }
  t0w::testing::TempDir dir;
  const std::filesystem::path extra = dir.path() / "quiet_accounts.yml";
  std::ofstream(extra) << kQuietAccounts;
  const std::filesystem::path evtx = corpus / "evtx-attack-samples";
  RuleSources rules;
  rules.paths = {corpus / "sigma" / "rules" / "windows", extra};
  rules.packs = {t0w::testing::sourceDir() / "packs" / "tier0"};
  SourceConfig source;
  source.type = SourceType::kEvtxReplay;
  source.path = evtx;
  const Alerts alerts = scanAndRun({evtx}, {source}, rules, dir.path());
  ASSERT_GT(alerts.scanned.size(), 10u) << "the corpus and rules should raise alerts";
  expectSameAlerts(alerts);
  EXPECT_GT(countRule(alerts.scanned, kQuietId), 0u) << "decided at the end of input";
}

}  // namespace
}  // namespace t0w
