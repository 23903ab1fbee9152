#include "agent/rules/rule_set.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "agent/rules/alert_json.h"
#include "agent/rules/gate_index.h"
#include "agent/rules/rule_stage.h"
#include "collectors/evtx/evtx_file_collector.h"
#include "tests/fakes/fake_event_sink.h"
#include "tests/support/corpus.h"
#include "tests/unit/rules/rule_test_support.h"

namespace t0w::testing {
namespace {

TEST(RuleSetLogSource, ProcessCreationSysmonAndSecurity4688) {
  auto r =
      load(procRule("    sel:\n      Image|endswith: '\\whoami.exe'\n"
                    "      ParentImage|endswith: '\\cmd.exe'\n    condition: sel\n"));
  ASSERT_EQ(r.set->size(), 1u);
  EXPECT_EQ(r.matches(sysmon1({{"Image", "C:\\W\\whoami.exe"}, {"ParentImage", "x\\cmd.exe"}})),
            1u);
  // Same fields in a Sysmon event of another EventID: not a process creation.
  EXPECT_EQ(r.matches(makeEvent("Microsoft-Windows-Sysmon/Operational", 11,
                                {{"Image", "C:\\W\\whoami.exe"}, {"ParentImage", "x\\cmd.exe"}})),
            0u);
  // Security 4688 uses NewProcessName / ParentProcessName.
  EXPECT_EQ(r.matches(makeEvent("Security", 4688,
                                {{"NewProcessName", "C:\\W\\whoami.exe"},
                                 {"ParentProcessName", "C:\\W\\cmd.exe"}})),
            1u);
  EXPECT_EQ(r.matches(makeEvent("Security", 4688,
                                {{"NewProcessName", "C:\\W\\whoami.exe"},
                                 {"ParentProcessName", "C:\\W\\explorer.exe"}})),
            0u);
  // A channel the rule does not read.
  EXPECT_EQ(r.matches(makeEvent("Application", 1,
                                {{"Image", "C:\\W\\whoami.exe"}, {"ParentImage", "x\\cmd.exe"}})),
            0u);
}

TEST(RuleSetLogSource, ServicesAndSystemFields) {
  auto r = load(
      "title: t\nid: s1\nlogsource: {product: windows, service: password-protection}\n"
      "detection:\n  sel:\n    EventID: [10016, 10017]\n    Computer|startswith: dc\n"
      "  condition: sel\n");
  ASSERT_EQ(r.set->size(), 1u) << r.rejection();
  EXPECT_EQ(r.matches(makeEvent("Microsoft-AzureADPasswordProtection-DCAgent/Admin", 10017, {})),
            1u);
  EXPECT_EQ(
      r.matches(makeEvent("Microsoft-AzureADPasswordProtection-DCAgent/Operational", 10016, {})),
      1u);
  EXPECT_EQ(r.matches(makeEvent("Microsoft-AzureADPasswordProtection-DCAgent/Admin", 10015, {})),
            0u);
  EXPECT_EQ(r.matches(makeEvent("Security", 10017, {})), 0u);

  auto pnc = load(
      "title: t\nid: s2\nlogsource: {product: windows, service: "
      "private-network-connector}\ndetection:\n  sel:\n    Channel|contains: "
      "connector\n  condition: sel\n");
  EXPECT_EQ(pnc.matches(makeEvent("Microsoft-AadApplicationProxy-Connector/Admin", 1, {})), 1u);
  EXPECT_EQ(
      pnc.matches(makeEvent("Microsoft-Microsoft Entra private network-Connector/Admin", 1, {})),
      1u);
  EXPECT_EQ(pnc.matches(makeEvent("System", 1, {})), 0u);

  // Trace-file lines have no channel; the collector names them by provider.
  auto trace = load(
      "title: t\nid: s3\nlogsource: {product: windows, service: aadconnect-trace}\n"
      "detection:\n  kw:\n    - 'Password hash sync failed'\n  condition: kw\n");
  ASSERT_EQ(trace.set->size(), 1u) << trace.rejection();
  Event line = makeEvent("", 0, {{"Message", "ERROR Password hash sync failed for x"}});
  line.system.provider_name = std::string(kAadConnectTraceProvider);
  EXPECT_EQ(trace.matches(line), 1u);
  line.system.provider_name = "Other";
  EXPECT_EQ(trace.matches(line), 0u);
}

TEST(RuleSetIndex, EventIdsFromConjunctions) {
  auto r = load(
      "title: t\nid: i1\nlogsource: {product: windows, service: security}\n"
      "detection:\n  sel:\n    EventID: 4625\n  filter:\n    LogonType: 3\n"
      "  condition: sel and not filter\n"
      "---\ntitle: t2\nid: i2\nlogsource: {product: windows, service: security}\n"
      "detection:\n  sel:\n    TargetUserName|endswith: '$'\n  condition: sel\n");
  ASSERT_EQ(r.set->size(), 2u);
  EXPECT_EQ(r.set->rule(0).variants[0].event_ids, std::vector<uint32_t>{4625});
  EXPECT_TRUE(r.set->rule(1).variants[0].event_ids.empty());
  EXPECT_EQ(r.matches(makeEvent("Security", 4625, {{"LogonType", "2"}})), 1u);
  EXPECT_EQ(r.matches(makeEvent("Security", 4625, {{"LogonType", "3"}})), 0u);
  EXPECT_EQ(r.matches(makeEvent("Security", 4624, {{"LogonType", "2"}})), 0u);
  EXPECT_EQ(r.matches(makeEvent("SECURITY", 4624, {{"TargetUserName", "DC01$"}})), 1u);
}

TEST(RuleSetAlerts, AlertCarriesRuleEventAndMatchedFields) {
  auto r =
      load(procRule("    sel:\n      CommandLine|contains: 'whoami'\n"
                    "    filter:\n      User: 'SYSTEM'\n    condition: sel and not filter\n"));
  auto alerts = r.alerts(sysmon1({{"CommandLine", "cmd /c whoami"}, {"User", "bob"}}));
  ASSERT_EQ(alerts.size(), 1u);
  const Alert& a = alerts[0];
  EXPECT_EQ(a.rule_id, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(a.rule_title, "Test rule");
  EXPECT_EQ(a.level, "high");
  EXPECT_EQ(a.tags, std::vector<std::string>{"attack.t1059"});
  ASSERT_TRUE(a.event);
  EXPECT_EQ(a.event->system.event_id, 1u);
  ASSERT_EQ(a.matched.size(), 1u);  // the negated filter does not explain the match
  EXPECT_EQ(a.matched[0].name, "CommandLine");
  EXPECT_EQ(a.matched[0].value, "cmd /c whoami");
  auto json = alertToJson(a);
  EXPECT_EQ(json["rule_id"], a.rule_id);
  EXPECT_EQ(json["matched"][0]["field"], "CommandLine");
  EXPECT_EQ(json["event"]["System"]["EventID"], 1);
  EXPECT_TRUE(r.alerts(sysmon1({{"CommandLine", "cmd /c whoami"}, {"User", "system"}})).empty());
}

// Keyword and `|contains` lists long enough for a LiteralSet: same matches, same recorded field,
// and the values it cannot hold (short, cased, wildcards, null) still tested one by one.
TEST(RuleSetAlerts, LiteralSetsKeepMatchesAndMatchedFields) {
  const std::string keywords =
      "title: kw\nid: kw\nlogsource: {product: windows}\ndetection:\n  keywords:\n"
      "    - 'sekurlsa::'\n    - 'lsadump::'\n    - 'kerberos::golden'\n    - 'abc'\n"
      "    - 'pri*::debug'\n  condition: keywords\n";
  for (bool sets : {true, false}) {
    RuleCompileOptions opts;
    opts.literal_sets = sets;
    auto r = load(keywords, opts);
    ASSERT_EQ(r.set->size(), 1u) << r.rejection();
    auto a = r.alerts(makeEvent("Security", 4688, {{"A", "x"}, {"B", "run LSADUMP::sam"}}));
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(a[0].matched.size(), 1u);
    EXPECT_EQ(a[0].matched[0].name, "B");
    EXPECT_EQ(r.matches(makeEvent("Security", 4688, {{"A", "zabcz"}})), 1u);  // short literal
    EXPECT_EQ(r.matches(makeEvent("Security", 4688, {{"A", "PRIVILEGE::DEBUG"}})), 1u);  // glob
    EXPECT_EQ(r.matches(makeEvent("Security", 4688, {{"A", "sekurlsa:"}})), 0u);
  }
  auto r = load(procRule(
      "    sel:\n      CommandLine|contains:\n        - 'whoami'\n        - 'net user'\n"
      "        - 'nltest'\n      User|contains|cased:\n        - 'Admin'\n        - 'Root'\n"
      "        - 'Boss'\n    condition: sel\n"));
  ASSERT_EQ(r.set->size(), 1u) << r.rejection();
  EXPECT_EQ(r.matches(sysmon1({{"CommandLine", "NLTEST /dclist"}, {"User", "corp\\Admin"}})), 1u);
  EXPECT_EQ(r.matches(sysmon1({{"CommandLine", "NLTEST /dclist"}, {"User", "corp\\admin"}})), 0u);
}

TEST(RuleStage, ForwardsEveryEventAndAlertsOnMatches) {
  auto r = load(procRule("    sel:\n      CommandLine|contains: 'x'\n    condition: sel\n"));
  CollectingSink alerts;
  testing::FakeEventSink next;
  RuleStage stage(*r.set, alerts, next);
  stage.onEvent(sysmon1({{"CommandLine", "x"}}));
  stage.onEvent(sysmon1({{"CommandLine", "y"}}));
  stage.finish();
  EXPECT_EQ(next.events.size(), 2u);
  ASSERT_EQ(alerts.alerts.size(), 1u);
  EXPECT_EQ(alerts.alerts[0].event->find("CommandLine")->compare("x"), 0);
  EXPECT_EQ(next.events[0].find("CommandLine")->compare("x"), 0);  // not moved away
}

const char* kCorrelated =
    "title: Failed logon\nid: base-1\nname: failed_logon\n"
    "logsource: {product: windows, service: security}\n"
    "detection:\n  sel:\n    EventID: 4625\n  condition: sel\n"
    "---\ntitle: Many failed logons\nid: corr-1\n"
    "correlation:\n  type: event_count\n  rules: [failed_logon]\n  group-by: [TargetUserName]\n"
    "  timespan: 5m\n  condition: {gte: 3}\n";

Event failedLogon(int64_t seconds) {
  Event e = makeEvent("Security", 4625, {{"TargetUserName", "alice"}});
  e.system.time_created = seconds * 10'000'000;
  return e;
}

TEST(RuleSetCorrelation, ReferencedBaseRuleIsSuppressedAndCorrelationAlerts) {
  auto r = load(kCorrelated);
  ASSERT_EQ(r.set->size(), 1u) << r.rejection();
  EXPECT_EQ(r.report.correlations, 1u);
  CollectingSink sink;
  for (int i = 0; i < 3; ++i)
    r.set->evaluate(std::make_shared<const Event>(failedLogon(1000 + i)), sink);
  r.set->flush(sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].rule_id, "corr-1");
  EXPECT_EQ(sink.alerts[0].correlation_type, "event_count");
}

TEST(RuleSetCorrelation, GenerateTrueKeepsBaseAlerts) {
  std::string text = kCorrelated;
  text += "  generate: true\n";
  auto r = load(text);
  CollectingSink sink;
  for (int i = 0; i < 3; ++i)
    r.set->evaluate(std::make_shared<const Event>(failedLogon(1000 + i)), sink);
  size_t base = 0, corr = 0;
  for (const auto& a : sink.alerts) (a.rule_id == "base-1" ? base : corr)++;
  EXPECT_EQ(base, 3u);
  EXPECT_EQ(corr, 1u);
}

// Sigma's informational level is for enrichment: below the minimum a rule raises no alert of its
// own, but still feeds its correlation, and generate: true still asks for its alerts.
TEST(RuleSetAlerts, MinimumAlertLevelSilencesLowerRulesOnly) {
  std::string text = kCorrelated;
  text.insert(text.find("---"), "level: informational\n");
  text +=
      "---\ntitle: Logoff\nid: info-1\nlevel: informational\n"
      "logsource: {product: windows, service: security}\n"
      "detection:\n  sel:\n    EventID: 4634\n  condition: sel\n"
      "---\ntitle: Logoff, low\nid: low-1\nlevel: low\n"
      "logsource: {product: windows, service: security}\n"
      "detection:\n  sel:\n    EventID: 4634\n  condition: sel\n"
      "---\ntitle: No level\nid: none-1\n"
      "logsource: {product: windows, service: security}\n"
      "detection:\n  sel:\n    EventID: 4634\n  condition: sel\n";
  auto ids = [](const CollectingSink& sink) {
    std::vector<std::string> out;
    for (const auto& a : sink.alerts) out.push_back(a.rule_id);
    return out;
  };
  {
    auto r = load(text);
    ASSERT_EQ(r.set->size(), 4u) << r.rejection();
    CollectingSink sink;
    EXPECT_EQ(r.set->evaluate(std::make_shared<const Event>(makeEvent("Security", 4634, {})), sink),
              3u);
    EXPECT_EQ(ids(sink), (std::vector<std::string>{"info-1", "low-1", "none-1"}));
    r.set->setMinimumAlertLevel(alertLevelRank("low"));
    sink.alerts.clear();
    EXPECT_EQ(r.set->evaluate(std::make_shared<const Event>(makeEvent("Security", 4634, {})), sink),
              3u);  // still matches: counted, not raised
    EXPECT_EQ(ids(sink), (std::vector<std::string>{"low-1", "none-1"}));
    r.set->setMinimumAlertLevel(alertLevelRank("high"));
    sink.alerts.clear();
    r.set->evaluate(std::make_shared<const Event>(makeEvent("Security", 4634, {})), sink);
    EXPECT_EQ(ids(sink), (std::vector<std::string>{"none-1"}));
    // The informational base rule still feeds its correlation.
    r.set->setMinimumAlertLevel(alertLevelRank("low"));
    sink.alerts.clear();
    for (int i = 0; i < 3; ++i)
      r.set->evaluate(std::make_shared<const Event>(failedLogon(1000 + i)), sink);
    r.set->flush(sink);
    EXPECT_EQ(ids(sink), (std::vector<std::string>{"corr-1"}));
  }
  {
    text.insert(text.find("---\ntitle: Logoff\n"), "  generate: true\n");
    auto r = load(text);
    ASSERT_EQ(r.set->size(), 4u) << r.rejection();
    r.set->setMinimumAlertLevel(alertLevelRank("low"));
    CollectingSink sink;
    for (int i = 0; i < 3; ++i)
      r.set->evaluate(std::make_shared<const Event>(failedLogon(1000 + i)), sink);
    EXPECT_EQ(ids(sink), (std::vector<std::string>{"base-1", "base-1", "base-1", "corr-1"}));
  }
}

// A window with an upper bound is decided when event time passes it, even when the event that
// moves time on matches no rule at all (live streams have no flush()).
TEST(RuleSetCorrelation, UpperBoundWindowClosesOnUnrelatedLaterEvent) {
  std::string text = kCorrelated;
  text.replace(text.find("condition: {gte: 3}"), 19, "condition: {lt: 3}");
  auto r = load(text);
  ASSERT_EQ(r.report.correlations, 1u) << r.rejection();
  CollectingSink sink;
  r.set->evaluate(std::make_shared<const Event>(failedLogon(1000)), sink);
  r.set->evaluate(std::make_shared<const Event>(failedLogon(1001)), sink);
  EXPECT_TRUE(sink.alerts.empty());  // the 5-minute window is still open
  Event unrelated = makeEvent("Security", 4624, {{"TargetUserName", "bob"}});
  unrelated.system.time_created = int64_t{1000 + 301} * 10'000'000;
  r.set->evaluate(std::make_shared<const Event>(unrelated), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].rule_id, "corr-1");
}

// Without the later event nothing is decided early: two events inside the window stay open.
TEST(RuleSetCorrelation, UpperBoundWindowStaysOpenWhileTimeIsInside) {
  std::string text = kCorrelated;
  text.replace(text.find("condition: {gte: 3}"), 19, "condition: {lt: 3}");
  auto r = load(text);
  CollectingSink sink;
  r.set->evaluate(std::make_shared<const Event>(failedLogon(1000)), sink);
  Event unrelated = makeEvent("Security", 4624, {{"TargetUserName", "bob"}});
  unrelated.system.time_created = int64_t{1000 + 299} * 10'000'000;
  r.set->evaluate(std::make_shared<const Event>(unrelated), sink);
  EXPECT_TRUE(sink.alerts.empty());
}

// A chain whose inner correlation comes first in load order (same file, earlier document): the
// reference check must still see the inner correlation after accepting it.
TEST(RuleSetCorrelation, ChainAfterItsInnerCorrelationIsAccepted) {
  std::string text = kCorrelated;
  text.replace(text.find("id: corr-1\n"), 11, "id: corr-1\nname: inner\n");
  text +=
      "---\ntitle: Chain\nid: chain-1\ncorrelation:\n  type: temporal_ordered\n"
      "  rules: [inner, failed_logon]\n  group-by: [TargetUserName]\n  timespan: 10m\n";
  auto r = load(text);
  EXPECT_TRUE(r.report.rejected.empty()) << r.rejection();
  EXPECT_EQ(r.report.correlations, 2u);
  CollectingSink sink;
  for (int i = 0; i < 4; ++i)
    r.set->evaluate(std::make_shared<const Event>(failedLogon(1000 + i)), sink);
  r.set->flush(sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].rule_id, "chain-1");
}

TEST(RuleSetCorrelation, UnknownReferenceIsRejected) {
  auto r = load(
      "title: c\nid: c\ncorrelation:\n  type: event_count\n  rules: [nosuch]\n"
      "  timespan: 1m\n  condition: {gte: 2}\n");
  ASSERT_EQ(r.report.rejected.size(), 1u);
  EXPECT_EQ(r.report.rejected[0].kind, "invalid correlation");
  EXPECT_NE(r.report.rejected[0].message.find("nosuch"), std::string::npos);
}

TEST(RuleSetCorpus, LoadsTheWindowsRules) {
  T0W_CORPUS_OR_SKIP(corpus);
  RuleSet set;
  RuleLoadReport report;
  set.loadPath(corpus / "sigma" / "rules" / "windows", report);
  set.finalize(report);
  ASSERT_GT(report.loaded, 2000u);
  EXPECT_GE(static_cast<double>(report.loaded) / (report.loaded + report.rejected.size()), 0.99);
}

Event cmd_(const std::string& c) { return sysmon1({{"CommandLine", c}}); }

// Candidates are indexed by EventID, so an EventID literal would pass every event of the list:
// the gate takes the rule's other literals, however short.
TEST(RuleSetPrefilter, GateIgnoresTheIndexedEventId) {
  auto det = YAML::Load(
      "sel:\n  EventID: 4624\n  LogonType: '8'\nsso:\n  ServiceName: x\n"
      "condition: sel\n");
  auto d = compileDetection(det, nullptr, RuleCompileOptions{});
  ASSERT_TRUE(d.ok());
  auto gate = detectionGate(*d);
  ASSERT_TRUE(gate);
  ASSERT_EQ(gate->size(), 1u);
  EXPECT_EQ((*gate)[0].field.sigma_name, "LogonType");
  EXPECT_EQ((*gate)[0].lower, "8");
  auto only_id = compileDetection(YAML::Load("sel:\n  EventID: 4624\ncondition: sel\n"), nullptr,
                                  RuleCompileOptions{});
  ASSERT_TRUE(only_id.ok());
  EXPECT_FALSE(detectionGate(*only_id));
}

TEST(RuleSetPrefilter, GateKeepsEveryMatch) {
  // Rules whose only literal is in one field, rules needing a regex or negation (ungated).
  std::string text;
  for (int i = 0; i < 20; ++i) {
    text += procRule("    sel:\n      CommandLine|contains: 'tok" + std::to_string(i) +
                     "'\n    condition: sel\n") +
            "---\n";
  }
  text += procRule("    sel:\n      CommandLine|re: 'x[0-9]+y'\n    condition: sel\n");
  text += "---\n" + procRule("    f:\n      Image: 'a'\n    condition: not f\n");
  auto r = load(text);
  ASSERT_EQ(r.set->size(), 22u) << r.rejection();
  EXPECT_EQ(r.set->indexStats().gated, 40u);  // 20 rules x (Sysmon 1 + Security 4688)
  EXPECT_EQ(r.matches(cmd_("TOK7 x12y")), 3u);
  EXPECT_EQ(r.matches(cmd_("nothing")), 1u);  // only `not f`
}

TEST(RuleSetPrefilter, SameMatchesWithAndWithoutGateOnCorpus) {
  T0W_CORPUS_OR_SKIP(corpus);
  RuleCompileOptions off;  // and without literal sets
  off.prefilter = false;
  off.literal_sets = false;
  RuleSet gated, plain(off);
  RuleLoadReport r1, r2;
  for (const char* sub : {"rules/windows", "rules-emerging-threats", "rules-threat-hunting"}) {
    gated.loadPath(corpus / "sigma" / sub, r1);
    plain.loadPath(corpus / "sigma" / sub, r2);
  }
  gated.finalize(r1);
  plain.finalize(r2);
  ASSERT_GT(gated.indexStats().gated, 1000u);
  testing::FakeEventSink events;
  for (const char* sub : {"evtx-attack-samples", "sigma/regression"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(corpus / sub))
      if (e.path().extension() == ".evtx") EvtxFileCollector(e.path()).run(events);
  }
#ifdef _WIN32
  // Windows reads .evtx through EvtQuery, an unimplemented stub under Wine (CI's Windows leg).
  if (events.events.empty()) GTEST_SKIP() << "no events read from .evtx (EvtQuery under Wine)";
#endif
  ASSERT_GT(events.events.size(), 100u);
  size_t total = 0;
  for (const auto& e : events.events) {
    const auto a = gated.matchingRules(e);
    EXPECT_EQ(a, plain.matchingRules(e)) << e.origin.source << " @" << e.origin.position;
    total += a.size();
  }
  EXPECT_GT(total, 100u);
}

}  // namespace
}  // namespace t0w::testing
