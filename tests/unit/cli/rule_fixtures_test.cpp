// The fixture runner behind `tier0watch rules test` (rule_fixtures.h) and the --placeholder
// option.
#include "agent/cli/rule_fixtures.h"

#include <gtest/gtest.h>

#include <sstream>

#include "agent/cli/rule_options.h"
#include "tests/unit/cli/temp_dir.h"

namespace t0w::cli {
namespace {

using testing::TempDir;

constexpr const char* kRules = R"(title: Failed logon
id: base-1
name: failed
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4625}
  condition: sel
level: low
---
title: Three failed logons
id: corr-1
correlation:
  type: event_count
  rules: [failed]
  group-by: [TargetUserName]
  timespan: 5m
  condition: {gte: 3}
level: high
---
title: Admin logon
id: admin-1
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4624
    TargetUserName|expand: '%admins%'
  condition: sel
level: high
)";

std::string failed(const std::string& user, int second) {
  return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
         "<Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4625</EventID>"
         "<TimeCreated SystemTime='2024-05-14T08:00:0" +
         std::to_string(second) +
         ".0000000Z'/><Channel>Security</Channel><Computer>DC01</Computer></System>"
         "<EventData><Data Name='TargetUserName'>" +
         user + "</Data></EventData></Event>";
}

const char* kLogon =
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
    "<Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4624</EventID>"
    "<Channel>Security</Channel><Computer>DC01</Computer></System>"
    "<EventData><Data Name='TargetUserName'>root</Data></EventData></Event>";

std::string spec(const std::string& rule, const std::string& cases) {
  return "rule: " + rule + "\ncases:\n" + cases;
}

TEST(RuleFixtures, ParsesEventsBareOrWrapped) {
  auto events =
      parseFixtureEvents("<Events>\n" + failed("a", 1) + "\n" + failed("b", 2) + "</Events>");
  ASSERT_TRUE(events) << events.error().toString();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(*(*events)[1].find("TargetUserName"), "b");
  auto bad = parseFixtureEvents("<Event><System><EventID>x</EventID></System></Event>");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("event 1"), std::string::npos);
  EXPECT_FALSE(parseFixtureEvents("<Event>"));
}

TEST(RuleFixtures, SpecsWithRepeatAndSeveralDocuments) {
  TempDir d;
  const auto file =
      d.write("x.test.yaml",
              spec("corr-1",
                   "  - name: burst\n    expect: {corr-1: 1}\n    events:\n      - repeat: 3\n"
                   "        xml: \"" +
                       failed("user", 1) + "\"\n") +
                  "---\n" +
                  spec("admin-1", "  - name: none\n    expect: {}\n    events: \"" +
                                      failed("u{n}", 2) + "\"\n"));
  auto specs = loadFixtureSpecs(file);
  ASSERT_TRUE(specs) << specs.error().toString();
  ASSERT_EQ(specs->size(), 2u);
  EXPECT_EQ((*specs)[0].cases[0].events.size(), 3u);
  EXPECT_EQ((*specs)[0].cases[0].expect.at("corr-1"), 1u);
  // {n} is only replaced in repeated items.
  EXPECT_EQ(*(*specs)[1].cases[0].events[0].find("TargetUserName"), "u{n}");
  const auto bad = d.write("bad.test.yaml", "rule: r\ncases: []\n");
  EXPECT_FALSE(loadFixtureSpecs(bad));
  const auto no_events = d.write("n.test.yaml", spec("r", "  - name: x\n    expect: {}\n"));
  auto e = loadFixtureSpecs(no_events);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("case 'x'"), std::string::npos) << e.error().message;
}

TEST(RuleFixtures, RunsCasesExactlyAndReportsUntestedRules) {
  TempDir d;
  d.write("rules/r.yml", kRules);
  const std::string burst = "        - repeat: 3\n          xml: \"" + failed("user", 1) + "\"\n";
  d.write(
      "t/corr.test.yaml",
      spec("corr-1", "  - name: three failures\n    expect: {corr-1: 1}\n    events:\n" + burst +
                         "  - name: two failures\n    expect: {}\n    events:\n"
                         "        - repeat: 2\n          xml: \"" +
                         failed("user", 1) + "\"\n"));
  RuleSources sources;
  sources.paths.push_back(d.path() / "rules");
  sources.placeholders["admins"] = {"root"};
  FixtureRun run = runFixtures(sources, findFixtureSpecs({d.path() / "t"}));
  EXPECT_TRUE(run.errors.empty());
  ASSERT_EQ(run.cases.size(), 2u);
  EXPECT_TRUE(run.cases[0].passed && run.cases[0].positive);
  EXPECT_TRUE(run.cases[1].passed && !run.cases[1].positive);
  // admin-1 alerts on its own and has no cases; base-1 only feeds corr-1, so it needs none.
  EXPECT_EQ(run.untested, (std::vector<std::string>{"admin-1"}));
  EXPECT_FALSE(run.ok());

  // A case expecting too little fails: every alert of the rule set counts.
  d.write("t/admin.test.yaml",
          spec("admin-1", std::string("  - name: root logs on\n    expect: {}\n    events: \"") +
                              kLogon + "\"\n"));
  run = runFixtures(sources, findFixtureSpecs({d.path() / "t"}));
  ASSERT_EQ(run.cases.size(), 3u);
  EXPECT_FALSE(run.cases[0].passed);
  EXPECT_EQ(run.cases[0].got.at("admin-1"), 1u);
  std::ostringstream out;
  printFixtureRun(run, out);
  EXPECT_NE(out.str().find("FAIL  admin.test.yaml: root logs on (negative)"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("got      {admin-1: 1 (Admin logon)}"), std::string::npos) << out.str();

  // Unknown rule ids are errors, not silent passes.
  d.write("u/x.test.yaml", spec("nosuch", "  - name: x\n    expect: {other: 1}\n    events: \"" +
                                              failed("a", 1) + "\"\n"));
  run = runFixtures(sources, findFixtureSpecs({d.path() / "u"}));
  EXPECT_EQ(run.errors.size(), 2u);
  EXPECT_TRUE(run.cases.empty());
}

TEST(RuleOptions, PlaceholderOption) {
  auto p = parsePlaceholderOption("tier0_sync_accounts=MSOL_1;MSOL_2");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->first, "tier0_sync_accounts");
  EXPECT_EQ(p->second, (std::vector<std::string>{"MSOL_1", "MSOL_2"}));
  auto empty = parsePlaceholderOption("tier0_ca_groups=");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->second.empty());
  EXPECT_FALSE(parsePlaceholderOption("novalue"));
  EXPECT_FALSE(parsePlaceholderOption("=x"));
}

}  // namespace
}  // namespace t0w::cli
