#include "agent/rules/correlation.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/core/time.h"

namespace t0w {
namespace {

const int64_t kBase = *parseFiletime("2024-03-01T12:00:00Z");

int64_t at(int64_t seconds) { return kBase + seconds * kTicksPerSecond; }

using Fields = std::vector<std::pair<std::string, std::string>>;

std::shared_ptr<const Event> makeEvent(uint64_t record, std::optional<int64_t> seconds,
                                       const Fields& fields, uint32_t event_id = 4625) {
  auto e = std::make_shared<Event>();
  e->system.channel = "Security";
  e->system.computer = "DC01.corp.example";
  e->system.event_id = event_id;
  e->system.record_id = record;
  if (seconds) e->system.time_created = at(*seconds);
  e->data_section = Event::DataSection::kEventData;
  for (const auto& [name, value] : fields) e->addField(name, value);
  return e;
}

class CollectingSink : public AlertSink {
 public:
  void onAlert(Alert&& alert) override { alerts.push_back(std::move(alert)); }
  std::vector<Alert> alerts;
};

Result<CorrelationRule> parse(const std::string& yaml, const std::string& file = "mr_test.yml") {
  return parseCorrelationRule(YAML::Load(yaml), file);
}

CorrelationRule mustParse(const std::string& yaml) {
  auto r = parse(yaml);
  if (!r.ok()) {
    ADD_FAILURE() << r.error().toString();
    return CorrelationRule{};
  }
  return std::move(r).value();
}

std::vector<std::string> keys(std::initializer_list<uint64_t> records) {
  std::vector<std::string> out;
  for (uint64_t r : records) out.push_back("Security:" + std::to_string(r));
  return out;
}

const char* const kFailedLogins = R"(
title: Many failed logons from one address
id: 0e95725d-7320-415d-80f7-004da920fc11
level: high
tags: [attack.credential-access, attack.t1110]
correlation:
  type: event_count
  rules:
    - failed_logon
  group-by:
    - IpAddress
  timespan: 1m
  condition:
    gte: 5
)";

// --- parsing ----------------------------------------------------------------------------------

TEST(ParseTimespanTest, UnitsAndErrors) {
  EXPECT_EQ(*parseTimespan("30s"), 30 * kTicksPerSecond);
  EXPECT_EQ(*parseTimespan("5m"), 300 * kTicksPerSecond);
  EXPECT_EQ(*parseTimespan("1h"), 3600 * kTicksPerSecond);
  EXPECT_EQ(*parseTimespan("2d"), 2 * 86400 * kTicksPerSecond);
  EXPECT_EQ(*parseTimespan("90m"), 5400 * kTicksPerSecond);
  for (const char* bad :
       {"", "m", "5", "5x", "5M", "0m", "-5m", "1.5h", " 5m", "99999999999999d"}) {
    auto r = parseTimespan(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(ParseCorrelationTest, ReadsAllKeys) {
  auto r = parse(R"(
title: Password spray
id: 9b0bb8b8-1111-4a4a-9c9c-222222222222
name: password_spray
status: experimental
description: Many users from one address
level: critical
tags: [attack.t1110.003]
generate: true
correlation:
  type: value_count
  rules: [failed_logon, 53ba33fd-3a50-4468-a5ef-c583635cfa92]
  group-by: [src_ip, Computer]
  timespan: 5m
  condition:
    field: TargetUserName
    gte: 10
    lte: 100
  aliases:
    src_ip:
      failed_logon: IpAddress
      kerberos_failure: ClientAddress
)");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  const CorrelationRule& c = *r;
  EXPECT_EQ(c.title, "Password spray");
  EXPECT_EQ(c.id, "9b0bb8b8-1111-4a4a-9c9c-222222222222");
  EXPECT_EQ(c.name, "password_spray");
  EXPECT_EQ(c.level, "critical");
  EXPECT_EQ(c.tags, std::vector<std::string>{"attack.t1110.003"});
  EXPECT_EQ(c.file, "mr_test.yml");
  EXPECT_EQ(c.type, CorrelationType::kValueCount);
  EXPECT_EQ(c.rules.size(), 2u);
  EXPECT_EQ(c.group_by, (std::vector<std::string>{"src_ip", "Computer"}));
  EXPECT_EQ(c.timespan, 300 * kTicksPerSecond);
  EXPECT_EQ(c.timespan_text, "5m");
  EXPECT_EQ(c.condition.gte, 10u);
  EXPECT_EQ(c.condition.lte, 100u);
  EXPECT_FALSE(c.condition.gt);
  EXPECT_EQ(c.value_fields, std::vector<std::string>{"TargetUserName"});
  EXPECT_EQ(c.aliases.at("src_ip").at("kerberos_failure"), "ClientAddress");
  EXPECT_TRUE(c.generate);
  EXPECT_EQ(c.condition.toString(), "gte 10 and lte 100");
}

TEST(ParseCorrelationTest, TemporalWithoutConditionAndDefaults) {
  auto r = parse(R"(
title: Recon burst
correlation:
  type: temporal
  rules: [recon_a, recon_b, recon_c]
  group-by: [User]
  timespan: 5m
)");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_TRUE(r->condition.empty());
  EXPECT_EQ(r->level, "medium");
  EXPECT_FALSE(r->generate);
  EXPECT_EQ(r->alertId(), "Recon burst");
}

struct BadDoc {
  const char* name;
  const char* yaml;
  const char* expected;  // substring of the error
};

TEST(ParseCorrelationTest, RejectsMalformedDocumentsWithClearErrors) {
  const BadDoc cases[] = {
      {"unknown type",
       "title: T\nid: c-1\ncorrelation: {type: event_sum, rules: [a], timespan: 5m, condition: "
       "{gte: 2}}",
       "unknown correlation type 'event_sum'"},
      {"missing rules",
       "title: T\nid: c-1\ncorrelation: {type: event_count, timespan: 5m, "
       "condition: {gte: 2}}",
       "missing 'correlation.rules'"},
      {"empty rules",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [], timespan: 5m, "
       "condition: {gte: 2}}",
       "non-empty list"},
      {"duplicate rule",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a, a], timespan: 5m, "
       "condition: {gte: 2}}",
       "lists 'a' twice"},
      {"bad timespan unit",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], timespan: 5w, "
       "condition: {gte: 2}}",
       "timespan '5w': unit must be s, m, h or d"},
      {"zero timespan",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], timespan: 0s, "
       "condition: {gte: 2}}",
       "greater than zero"},
      {"missing timespan",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], condition: {gte: 2}}",
       "missing 'correlation.timespan'"},
      {"unknown operator",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], timespan: 5m, "
       "condition: {ge: 2}}",
       "unknown condition operator 'ge'"},
      {"negative count",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], timespan: 5m, "
       "condition: {gte: -2}}",
       "condition 'gte' must be a non-negative whole number, got '-2'"},
      {"text count",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], timespan: 5m, "
       "condition: {gte: many}}",
       "got 'many'"},
      {"impossible range",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], timespan: 5m, "
       "condition: {gt: 10, lt: 5}}",
       "can never hold"},
      {"lt zero",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], timespan: 5m, "
       "condition: {lt: 0}}",
       "can never hold"},
      {"condition not a map",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], timespan: 5m, "
       "condition: 'count > 5'}",
       "must be a mapping"},
      {"missing condition",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], timespan: 5m}",
       "missing 'correlation.condition'"},
      {"value_count without field",
       "title: T\nid: c-1\ncorrelation: {type: value_count, rules: [a], timespan: 5m, "
       "condition: {gte: 2}}",
       "value_count needs 'condition.field'"},
      {"field on event_count",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], timespan: 5m, "
       "condition: {gte: 2, field: User}}",
       "only allowed for value_count"},
      {"temporal count above rules",
       "title: T\nid: c-1\ncorrelation: {type: temporal, rules: [a, b], timespan: 5m, "
       "condition: {gte: 3}}",
       "counts at most 2 rules"},
      {"temporal with one rule",
       "title: T\nid: c-1\ncorrelation: {type: temporal, rules: [a], timespan: 5m}",
       "at least two rules"},
      {"unknown correlation key",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], groupby: [x], "
       "timespan: 5m, condition: {gte: 2}}",
       "unknown key 'groupby'"},
      {"bad level",
       "title: T\nid: c-1\nlevel: urgent\ncorrelation: {type: event_count, rules: [a], "
       "timespan: 5m, condition: {gte: 2}}",
       "unknown level 'urgent'"},
      {"missing title",
       "id: c-1\ncorrelation: {type: event_count, rules: [a], timespan: 5m, condition: {gte: "
       "2}}",
       "missing 'title'"},
      {"not a mapping", "- a\n- b\n", "not a YAML mapping"},
      {"correlation not a mapping", "title: T\nid: c-1\ncorrelation: [1, 2]", "must be a mapping"},
      {"alias not a mapping",
       "title: T\nid: c-1\ncorrelation: {type: event_count, rules: [a], timespan: 5m, "
       "condition: {gte: 2}, aliases: {ip: IpAddress}}",
       "alias 'ip' must map rule names to field names"},
  };
  for (const auto& c : cases) {
    auto r = parse(c.yaml, "rules/mr_broken.yml");
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code, Errc::kParse) << c.name;
    const std::string& msg = r.error().message;
    EXPECT_NE(msg.find(c.expected), std::string::npos) << c.name << ": " << msg;
    EXPECT_EQ(msg.rfind("rules/mr_broken.yml: correlation", 0), 0u) << c.name << ": " << msg;
    if (std::string(c.yaml).find("id: c-1") != std::string::npos) {
      EXPECT_NE(msg.find("'c-1'"), std::string::npos) << c.name << ": " << msg;
    }
  }
}

// --- event_count ------------------------------------------------------------------------------

TEST(EventCountTest, FiresOnceWhenThresholdReached) {
  CorrelationEngine engine({mustParse(kFailedLogins)});
  CollectingSink sink;
  for (uint64_t i = 0; i < 4; ++i) {
    engine.onRuleMatch("id-1", "failed_logon", makeEvent(100 + i, i, {{"IpAddress", "10.1.1.1"}}),
                       sink);
  }
  EXPECT_TRUE(sink.alerts.empty());
  auto fifth = makeEvent(104, 4, {{"IpAddress", "10.1.1.1"}});
  engine.onRuleMatch("id-1", "failed_logon", fifth, sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  const Alert& a = sink.alerts[0];
  EXPECT_EQ(a.rule_id, "0e95725d-7320-415d-80f7-004da920fc11");
  EXPECT_EQ(a.rule_title, "Many failed logons from one address");
  EXPECT_EQ(a.level, "high");
  EXPECT_EQ(a.tags, (std::vector<std::string>{"attack.credential-access", "attack.t1110"}));
  EXPECT_EQ(a.rule_file, "mr_test.yml");
  EXPECT_EQ(a.correlation_type, "event_count");
  ASSERT_EQ(a.group_by.size(), 1u);
  EXPECT_EQ(a.group_by[0].name, "IpAddress");
  EXPECT_EQ(a.group_by[0].value, "10.1.1.1");
  EXPECT_EQ(a.contributing_keys, keys({100, 101, 102, 103, 104}));
  EXPECT_EQ(a.contributing_rules, std::vector<std::string>{"failed_logon"});
  EXPECT_EQ(a.event, fifth);
  EXPECT_EQ(a.time, at(4));

  // The group was reset: the burst continuing does not raise one alert per event.
  for (uint64_t i = 5; i < 9; ++i) {
    engine.onRuleMatch("id-1", "failed_logon", makeEvent(100 + i, i, {{"IpAddress", "10.1.1.1"}}),
                       sink);
  }
  EXPECT_EQ(sink.alerts.size(), 1u);
  engine.onRuleMatch("id-1", "failed_logon", makeEvent(109, 9, {{"IpAddress", "10.1.1.1"}}), sink);
  EXPECT_EQ(sink.alerts.size(), 2u);
  EXPECT_EQ(sink.alerts[1].contributing_keys, keys({105, 106, 107, 108, 109}));
  EXPECT_EQ(engine.stats().alerts_emitted, 2u);
  EXPECT_EQ(engine.stats().rules[0].matches, 10u);
}

TEST(EventCountTest, OneTooFewDoesNotFire) {
  CorrelationEngine engine({mustParse(kFailedLogins)});
  CollectingSink sink;
  for (uint64_t i = 0; i < 4; ++i) {
    engine.onRuleMatch("", "failed_logon", makeEvent(i, i * 10, {{"IpAddress", "10.1.1.1"}}), sink);
  }
  engine.flush(sink);
  EXPECT_TRUE(sink.alerts.empty());
}

TEST(EventCountTest, EventsOutsideTimespanDoNotCount) {
  CorrelationEngine engine({mustParse(kFailedLogins)});
  CollectingSink sink;
  // Never more than 4 events in any 60 s window.
  int64_t times[] = {0, 20, 40, 59, 61, 90, 121, 150, 181, 190, 200};
  uint64_t record = 1;
  for (int64_t t : times) {
    engine.onRuleMatch("", "failed_logon", makeEvent(record++, t, {{"IpAddress", "10.1.1.1"}}),
                       sink);
  }
  EXPECT_TRUE(sink.alerts.empty());
  // A fifth event exactly 60 s after the one at 150 completes the window [150, 210].
  engine.onRuleMatch("", "failed_logon", makeEvent(record++, 210, {{"IpAddress", "10.1.1.1"}}),
                     sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({8, 9, 10, 11, 12}));
}

TEST(EventCountTest, WindowIsInclusiveAtBothEnds) {
  CorrelationRule rule = mustParse(kFailedLogins);
  rule.condition = CorrelationCondition{};
  rule.condition.gte = 2;
  CorrelationEngine engine({rule});
  CollectingSink sink;
  auto ev = [](uint64_t r, int64_t ticks) {
    auto e = std::make_shared<Event>();
    e->system.channel = "Security";
    e->system.record_id = r;
    e->system.time_created = ticks;
    e->addField("IpAddress", "10.9.9.9");
    return std::shared_ptr<const Event>(e);
  };
  engine.onRuleMatch("", "failed_logon", ev(1, at(0)), sink);
  engine.onRuleMatch("", "failed_logon", ev(2, at(60) + 1), sink);  // one tick too late
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("", "failed_logon", ev(3, at(120) + 1), sink);  // exactly 60 s later
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({2, 3}));
}

TEST(EventCountTest, GroupsAreSeparate) {
  CorrelationEngine engine({mustParse(kFailedLogins)});
  CollectingSink sink;
  for (uint64_t i = 0; i < 8; ++i) {
    // 4 from each address, interleaved.
    const char* ip = i % 2 ? "10.0.0.2" : "10.0.0.1";
    engine.onRuleMatch("", "failed_logon", makeEvent(i, i, {{"IpAddress", ip}}), sink);
  }
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("", "failed_logon", makeEvent(9, 9, {{"IpAddress", "10.0.0.2"}}), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].group_by[0].value, "10.0.0.2");
  EXPECT_EQ(engine.stats().rules[0].active_groups, 1u);  // 10.0.0.2 was reset
}

TEST(EventCountTest, GroupByMultipleFieldsIncludingSystemFields) {
  auto rule = mustParse(R"(
title: Failures per user and host
id: c-multi
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName, Computer, EventID]
  timespan: 10m
  condition: {gt: 2}
)");
  CorrelationEngine engine({rule});
  CollectingSink sink;
  engine.onRuleMatch("", "failed_logon", makeEvent(1, 0, {{"TargetUserName", "alice"}}), sink);
  engine.onRuleMatch("", "failed_logon", makeEvent(2, 1, {{"TargetUserName", "bob"}}), sink);
  engine.onRuleMatch("", "failed_logon", makeEvent(3, 2, {{"TargetUserName", "alice"}}, 4771),
                     sink);  // other EventID: other group
  engine.onRuleMatch("", "failed_logon", makeEvent(4, 3, {{"TargetUserName", "alice"}}), sink);
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("", "failed_logon", makeEvent(5, 4, {{"TargetUserName", "alice"}}), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  const auto& g = sink.alerts[0].group_by;
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0].name, "TargetUserName");
  EXPECT_EQ(g[0].value, "alice");
  EXPECT_EQ(g[1].name, "Computer");
  EXPECT_EQ(g[1].value, "DC01.corp.example");
  EXPECT_EQ(g[2].name, "EventID");
  EXPECT_EQ(g[2].value, "4625");
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({1, 4, 5}));
}

TEST(EventCountTest, MissingGroupFieldIsCountedNotGrouped) {
  CorrelationEngine engine({mustParse(kFailedLogins)});
  CollectingSink sink;
  for (uint64_t i = 0; i < 6; ++i) {
    engine.onRuleMatch("", "failed_logon", makeEvent(i, i, {{"WorkstationName", "WS1"}}), sink);
  }
  EXPECT_TRUE(sink.alerts.empty());
  EXPECT_EQ(engine.stats().rules[0].missing_group_field, 6u);
}

TEST(EventCountTest, OneEventMatchedByTwoListedRulesCountsOnce) {
  auto rule = mustParse(R"(
title: Two rules
id: c-two
correlation:
  type: event_count
  rules: [rule_a, rule_b]
  timespan: 5m
  condition: {gte: 2}
)");
  CorrelationEngine engine({rule});
  CollectingSink sink;
  auto e1 = makeEvent(1, 0, {});
  engine.onRuleMatch("", "rule_a", e1, sink);
  engine.onRuleMatch("", "rule_b", e1, sink);
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("", "rule_b", makeEvent(2, 1, {}), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({1, 2}));
  EXPECT_EQ(sink.alerts[0].contributing_rules, (std::vector<std::string>{"rule_a", "rule_b"}));
  EXPECT_TRUE(sink.alerts[0].group_by.empty());
}

TEST(EventCountTest, RulesReferredToByIdOrName) {
  auto rule = mustParse(R"(
title: By id
id: c-id
correlation:
  type: event_count
  rules: [5638f7c0-ac70-491d-8465-2a65075e0d86]
  timespan: 5m
  condition: {gte: 2}
)");
  CorrelationEngine engine({rule});
  CollectingSink sink;
  engine.onRuleMatch("other-id", "other_name", makeEvent(1, 0, {}), sink);
  engine.onRuleMatch("5638f7c0-ac70-491d-8465-2a65075e0d86", "", makeEvent(2, 1, {}), sink);
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("5638f7c0-ac70-491d-8465-2a65075e0d86", "fw_block", makeEvent(3, 2, {}), sink);
  EXPECT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(engine.stats().rules[0].matches, 2u);
}

// --- lt / lte / eq: decided when the window closes ---------------------------------------------

const char* const kFewLogons = R"(
title: Fewer than three logons in ten minutes
id: c-few
correlation:
  type: event_count
  rules: [logon]
  group-by: [TargetUserName]
  timespan: 10m
  condition: {lt: 3}
)";

TEST(WindowCloseTest, LtIsDecidedWhenEventTimePassesTheWindow) {
  CorrelationEngine engine({mustParse(kFewLogons)});
  CollectingSink sink;
  engine.onRuleMatch("", "logon", makeEvent(1, 0, {{"TargetUserName", "alice"}}), sink);
  engine.onRuleMatch("", "logon", makeEvent(2, 60, {{"TargetUserName", "alice"}}), sink);
  for (uint64_t i = 0; i < 5; ++i) {
    engine.onRuleMatch("", "logon", makeEvent(10 + i, 100 + i, {{"TargetUserName", "bob"}}), sink);
  }
  // alice has 2 < 3 so far, but more could still come within her window.
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("", "logon", makeEvent(20, 600, {{"TargetUserName", "carol"}}), sink);
  EXPECT_TRUE(sink.alerts.empty());  // alice's window [0, 600] is still open at 600
  engine.onRuleMatch("", "logon", makeEvent(21, 601, {{"TargetUserName", "carol"}}), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].group_by[0].value, "alice");
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({1, 2}));
  EXPECT_EQ(sink.alerts[0].time, at(60));

  // bob's window [100, 700] closes with 5 events: no alert. carol's closes at flush with 2.
  engine.advanceTo(at(701), sink);
  EXPECT_EQ(sink.alerts.size(), 1u);
  engine.flush(sink);
  ASSERT_EQ(sink.alerts.size(), 2u);
  EXPECT_EQ(sink.alerts[1].group_by[0].value, "carol");
  EXPECT_EQ(engine.stats().rules[0].active_groups, 0u);
}

TEST(WindowCloseTest, RangeAndEqDecidedOnFinalCount) {
  auto range = mustParse(R"(
title: Between three and five
id: c-range
correlation:
  type: event_count
  rules: [logon]
  group-by: [TargetUserName]
  timespan: 10m
  condition: {gte: 3, lte: 5}
)");
  auto eq = mustParse(R"(
title: Exactly two
id: c-eq
correlation:
  type: event_count
  rules: [logon]
  group-by: [TargetUserName]
  timespan: 10m
  condition: {eq: 2}
)");
  CorrelationEngine engine({range, eq});
  CollectingSink sink;
  uint64_t record = 1;
  auto burst = [&](const char* user, int n) {
    for (int i = 0; i < n; ++i) {
      engine.onRuleMatch("", "logon", makeEvent(record++, i, {{"TargetUserName", user}}), sink);
    }
  };
  burst("two", 2);
  burst("four", 4);
  burst("seven", 7);
  EXPECT_TRUE(sink.alerts.empty());  // nothing is decided while the windows are open
  engine.flush(sink);
  ASSERT_EQ(sink.alerts.size(), 2u);
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& a : sink.alerts) got.emplace_back(a.rule_id, a.group_by[0].value);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got[0], (std::pair<std::string, std::string>{"c-eq", "two"}));
  EXPECT_EQ(got[1], (std::pair<std::string, std::string>{"c-range", "four"}));
}

TEST(WindowCloseTest, NextEventOfAClosedGroupOpensANewWindow) {
  CorrelationEngine engine({mustParse(kFewLogons)});
  CollectingSink sink;
  for (uint64_t i = 0; i < 3; ++i) {
    engine.onRuleMatch("", "logon", makeEvent(i, i, {{"TargetUserName", "alice"}}), sink);
  }
  // 3 events: not < 3. The next event, after the window, starts a new window.
  engine.onRuleMatch("", "logon", makeEvent(9, 900, {{"TargetUserName", "alice"}}), sink);
  EXPECT_TRUE(sink.alerts.empty());
  engine.flush(sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({9}));
}

// --- value_count ------------------------------------------------------------------------------

const char* const kPasswordSpray = R"(
title: Password spray from one address
id: 2a4f8a54-5e3d-4c1a-9a0a-5a7d4f3c2b10
level: high
tags: [attack.credential-access, attack.t1110.003]
correlation:
  type: value_count
  rules:
    - failed_logon_4625
  group-by:
    - IpAddress
  timespan: 5m
  condition:
    field: TargetUserName
    gte: 10
)";

std::shared_ptr<const Event> failedLogon(uint64_t record, int64_t seconds, const std::string& ip,
                                         const std::string& user) {
  return makeEvent(record, seconds,
                   {{"TargetUserName", user},
                    {"TargetDomainName", "CORP"},
                    {"Status", "0xc000006d"},
                    {"SubStatus", "0xc000006a"},
                    {"LogonType", "3"},
                    {"IpAddress", ip},
                    {"IpPort", "50123"}},
                   4625);
}

TEST(ValueCountTest, CountsDistinctValuesOnly) {
  auto rule = mustParse(R"(
title: Distinct users
id: c-vc
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 5m
  condition: {field: TargetUserName, gte: 4}
)");
  CorrelationEngine engine({rule});
  CollectingSink sink;
  const char* users[] = {"alice", "bob", "carol", "alice", "bob", "carol", "alice", "bob"};
  uint64_t record = 1;
  for (const char* u : users) {
    engine.onRuleMatch("", "failed_logon", failedLogon(record++, 1, "10.0.0.7", u), sink);
  }
  EXPECT_TRUE(sink.alerts.empty());  // 8 events, 3 distinct users
  // A match without the field is not a value.
  engine.onRuleMatch("", "failed_logon", makeEvent(record++, 2, {{"IpAddress", "10.0.0.7"}}), sink);
  EXPECT_TRUE(sink.alerts.empty());
  EXPECT_EQ(engine.stats().rules[0].missing_value_field, 1u);
  engine.onRuleMatch("", "failed_logon", failedLogon(record++, 3, "10.0.0.7", "dave"), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].correlation_type, "value_count");
  EXPECT_EQ(sink.alerts[0].contributing_keys.size(), 9u);  // every counted event of the window
}

TEST(ValueCountTest, ValuesOutsideTimespanExpire) {
  auto rule = mustParse(R"(
title: Distinct users
id: c-vc
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 1m
  condition: {field: TargetUserName, gte: 3}
)");
  CorrelationEngine engine({rule});
  CollectingSink sink;
  engine.onRuleMatch("", "failed_logon", failedLogon(1, 0, "10.0.0.7", "alice"), sink);
  engine.onRuleMatch("", "failed_logon", failedLogon(2, 50, "10.0.0.7", "bob"), sink);
  engine.onRuleMatch("", "failed_logon", failedLogon(3, 61, "10.0.0.7", "carol"), sink);
  EXPECT_TRUE(sink.alerts.empty());  // alice expired before carol
  engine.onRuleMatch("", "failed_logon", failedLogon(4, 70, "10.0.0.7", "alice"), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({2, 3, 4}));
}

TEST(ValueCountTest, PasswordSprayTwelveUsersFromOneAddressIsOneAlert) {
  CorrelationEngine engine({mustParse(kPasswordSpray)});
  CollectingSink sink;
  uint64_t record = 5000;
  // 12 users from the attacker, 3 s apart, interleaved with a helpdesk address that fails for 9
  // users; both well inside 5 minutes.
  for (int i = 0; i < 12; ++i) {
    engine.onRuleMatch("", "failed_logon_4625",
                       failedLogon(record++, i * 3, "203.0.113.50", "user" + std::to_string(i)),
                       sink);
    if (i < 9) {
      engine.onRuleMatch(
          "", "failed_logon_4625",
          failedLogon(record++, i * 3 + 1, "10.20.30.40", "staff" + std::to_string(i)), sink);
    }
  }
  engine.flush(sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  const Alert& a = sink.alerts[0];
  EXPECT_EQ(a.rule_id, "2a4f8a54-5e3d-4c1a-9a0a-5a7d4f3c2b10");
  ASSERT_EQ(a.group_by.size(), 1u);
  EXPECT_EQ(a.group_by[0].value, "203.0.113.50");
  EXPECT_EQ(a.contributing_keys.size(), 10u);  // fires at the 10th distinct user
  ASSERT_TRUE(a.event);
  EXPECT_EQ(*a.event->find("TargetUserName"), "user9");
  EXPECT_EQ(a.time, at(27));
}

TEST(ValueCountTest, PasswordSprayNineUsersIsNoAlert) {
  CorrelationEngine engine({mustParse(kPasswordSpray)});
  CollectingSink sink;
  uint64_t record = 1;
  for (int round = 0; round < 3; ++round) {  // the same 9 users, tried three times
    for (int i = 0; i < 9; ++i) {
      engine.onRuleMatch(
          "", "failed_logon_4625",
          failedLogon(record++, round * 30 + i, "203.0.113.50", "user" + std::to_string(i)), sink);
    }
  }
  engine.flush(sink);
  EXPECT_TRUE(sink.alerts.empty());
}

TEST(ValueCountTest, ListOfFieldsCountsDistinctTuples) {
  auto rule = mustParse(R"(
title: Distinct user and workstation pairs
id: c-tuple
correlation:
  type: value_count
  rules: [failed_logon]
  timespan: 5m
  condition:
    field: [TargetUserName, WorkstationName]
    gte: 3
)");
  CorrelationEngine engine({rule});
  CollectingSink sink;
  auto ev = [](uint64_t r, const char* user, const char* ws) {
    return makeEvent(r, 0, {{"TargetUserName", user}, {"WorkstationName", ws}});
  };
  engine.onRuleMatch("", "failed_logon", ev(1, "alice", "WS1"), sink);
  engine.onRuleMatch("", "failed_logon", ev(2, "alice", "WS1"), sink);
  engine.onRuleMatch("", "failed_logon", ev(3, "alice", "WS2"), sink);
  EXPECT_TRUE(sink.alerts.empty());  // two distinct pairs
  engine.onRuleMatch("", "failed_logon", ev(4, "bob", "WS1"), sink);
  EXPECT_EQ(sink.alerts.size(), 1u);
}

// --- temporal ---------------------------------------------------------------------------------

const char* const kRecon = R"(
title: Recon commands
id: c-recon
correlation:
  type: temporal
  rules: [recon_a, recon_b, recon_c]
  group-by: [SubjectUserName]
  timespan: 5m
)";

TEST(TemporalTest, AllRulesInAnyOrderWithinTimespan) {
  CorrelationEngine engine({mustParse(kRecon)});
  CollectingSink sink;
  auto ev = [](uint64_t r, int64_t t, const char* user) {
    return makeEvent(r, t, {{"SubjectUserName", user}}, 4688);
  };
  engine.onRuleMatch("", "recon_c", ev(1, 0, "eve"), sink);
  engine.onRuleMatch("", "recon_a", ev(2, 10, "eve"), sink);
  engine.onRuleMatch("", "recon_a", ev(3, 20, "eve"), sink);
  engine.onRuleMatch("", "recon_b", ev(4, 30, "mallory"), sink);  // other user
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("", "recon_b", ev(5, 40, "eve"), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].correlation_type, "temporal");
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({1, 3, 5}));
  EXPECT_EQ(sink.alerts[0].contributing_rules,
            (std::vector<std::string>{"recon_c", "recon_a", "recon_b"}));
}

TEST(TemporalTest, MissingRuleOrTooFarApartDoesNotFire) {
  CorrelationEngine engine({mustParse(kRecon)});
  CollectingSink sink;
  auto ev = [](uint64_t r, int64_t t) {
    return makeEvent(r, t, {{"SubjectUserName", "eve"}}, 4688);
  };
  engine.onRuleMatch("", "recon_a", ev(1, 0), sink);
  engine.onRuleMatch("", "recon_b", ev(2, 100), sink);
  engine.onRuleMatch("", "recon_c", ev(3, 301), sink);  // recon_a is 301 s before: outside
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("", "recon_a", ev(4, 350), sink);  // b (100), c, a within [50, 350]
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({2, 3, 4}));
}

TEST(TemporalTest, ConditionCountsDistinctRules) {
  auto rule = mustParse(R"(
title: Two of three
id: c-2of3
correlation:
  type: temporal
  rules: [recon_a, recon_b, recon_c]
  group-by: [SubjectUserName]
  timespan: 5m
  condition: {gte: 2}
)");
  CorrelationEngine engine({rule});
  CollectingSink sink;
  engine.onRuleMatch("", "recon_a", makeEvent(1, 0, {{"SubjectUserName", "eve"}}), sink);
  engine.onRuleMatch("", "recon_a", makeEvent(2, 1, {{"SubjectUserName", "eve"}}), sink);
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("", "recon_c", makeEvent(3, 2, {{"SubjectUserName", "eve"}}), sink);
  EXPECT_EQ(sink.alerts.size(), 1u);
}

TEST(TemporalTest, AliasesMapGroupByToDifferentFieldsPerRule) {
  auto rule = mustParse(R"(
title: Error then connection between the same hosts
id: c-alias
correlation:
  type: temporal
  rules: [internal_error, new_network_connection]
  group-by: [internal_ip, remote_ip]
  timespan: 10s
  aliases:
    internal_ip:
      internal_error: destination.ip
      new_network_connection: source.ip
    remote_ip:
      internal_error: source.ip
      new_network_connection: destination.ip
)");
  CorrelationEngine engine({rule});
  CollectingSink sink;
  engine.onRuleMatch("", "internal_error",
                     makeEvent(1, 0, {{"destination.ip", "10.0.0.5"}, {"source.ip", "1.2.3.4"}}),
                     sink);
  // Same addresses in the same fields (not swapped): a different group.
  engine.onRuleMatch("", "new_network_connection",
                     makeEvent(2, 1, {{"destination.ip", "10.0.0.5"}, {"source.ip", "1.2.3.4"}}),
                     sink);
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("", "new_network_connection",
                     makeEvent(3, 2, {{"source.ip", "10.0.0.5"}, {"destination.ip", "1.2.3.4"}}),
                     sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  const auto& g = sink.alerts[0].group_by;
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].name, "internal_ip");
  EXPECT_EQ(g[0].value, "10.0.0.5");
  EXPECT_EQ(g[1].name, "remote_ip");
  EXPECT_EQ(g[1].value, "1.2.3.4");
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({1, 3}));
}

TEST(TemporalTest, AliasByNameWhileRulesListsTheId) {
  auto rule = mustParse(R"(
title: Alias names the rule, rules list its id
id: c-alias-id
correlation:
  type: temporal
  rules: [11111111-aaaa-4bbb-8ccc-000000000001, kerberos_failure]
  group-by: [src]
  timespan: 1m
  aliases:
    src:
      ntlm_failure: IpAddress
      kerberos_failure: ClientAddress
)");
  CorrelationEngine engine({rule});
  CollectingSink sink;
  engine.onRuleMatch("11111111-aaaa-4bbb-8ccc-000000000001", "ntlm_failure",
                     makeEvent(1, 0, {{"IpAddress", "10.0.0.9"}}), sink);
  engine.onRuleMatch("22222222-aaaa-4bbb-8ccc-000000000002", "kerberos_failure",
                     makeEvent(2, 5, {{"ClientAddress", "10.0.0.9"}}, 4771), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].group_by[0].value, "10.0.0.9");
}

// --- temporal_ordered -------------------------------------------------------------------------

const char* const kOrdered = R"(
title: Discovery then dump
id: c-ordered
correlation:
  type: temporal_ordered
  rules: [step_a, step_b, step_c]
  group-by: [SubjectUserName]
  timespan: 5m
)";

TEST(TemporalOrderedTest, FiresOnlyInTheListedOrder) {
  CorrelationEngine engine({mustParse(kOrdered)});
  CollectingSink sink;
  auto ev = [](uint64_t r, int64_t t, const char* user) {
    return makeEvent(r, t, {{"SubjectUserName", user}});
  };
  // Wrong order for eve: c, b, a.
  engine.onRuleMatch("", "step_c", ev(1, 0, "eve"), sink);
  engine.onRuleMatch("", "step_b", ev(2, 1, "eve"), sink);
  engine.onRuleMatch("", "step_a", ev(3, 2, "eve"), sink);
  // a, c, b for mallory: b must come before c.
  engine.onRuleMatch("", "step_a", ev(4, 3, "mallory"), sink);
  engine.onRuleMatch("", "step_c", ev(5, 4, "mallory"), sink);
  engine.onRuleMatch("", "step_b", ev(6, 5, "mallory"), sink);
  EXPECT_TRUE(sink.alerts.empty());
  // Now eve continues b, c after her a (record 3): a, b, c in order.
  engine.onRuleMatch("", "step_b", ev(7, 6, "eve"), sink);
  engine.onRuleMatch("", "step_c", ev(8, 7, "eve"), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].group_by[0].value, "eve");
  EXPECT_EQ(sink.alerts[0].correlation_type, "temporal_ordered");
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({3, 7, 8}));
  EXPECT_EQ(sink.alerts[0].contributing_rules,
            (std::vector<std::string>{"step_a", "step_b", "step_c"}));
  // mallory's c (record 5) came before b; a later c completes a, b, c.
  engine.onRuleMatch("", "step_c", ev(9, 8, "mallory"), sink);
  ASSERT_EQ(sink.alerts.size(), 2u);
  EXPECT_EQ(sink.alerts[1].contributing_keys, keys({4, 6, 9}));
}

TEST(TemporalOrderedTest, ChainMustFitTheTimespanAndUsesTheLatestStart) {
  CorrelationEngine engine({mustParse(kOrdered)});
  CollectingSink sink;
  auto ev = [](uint64_t r, int64_t t) { return makeEvent(r, t, {{"SubjectUserName", "eve"}}); };
  engine.onRuleMatch("", "step_a", ev(1, 0), sink);
  engine.onRuleMatch("", "step_b", ev(2, 10), sink);
  engine.onRuleMatch("", "step_c", ev(3, 301), sink);  // a..c spans 301 s > 5 m
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("", "step_a", ev(4, 320), sink);
  engine.onRuleMatch("", "step_b", ev(5, 330), sink);
  engine.onRuleMatch("", "step_a", ev(6, 340), sink);  // later a: does not replace a-b chain
  engine.onRuleMatch("", "step_c", ev(7, 600), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({4, 5, 7}));
}

TEST(TemporalOrderedTest, SameEventCannotBeTwoSteps) {
  auto rule = mustParse(R"(
title: A then B
id: c-ab
correlation:
  type: temporal_ordered
  rules: [step_a, step_b]
  timespan: 5m
)");
  CorrelationEngine engine({rule});
  CollectingSink sink;
  auto e = makeEvent(1, 0, {});
  engine.onRuleMatch("", "step_a", e, sink);
  engine.onRuleMatch("", "step_b", e, sink);
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("", "step_b", makeEvent(2, 0, {}), sink);  // same time, later arrival
  EXPECT_EQ(sink.alerts.size(), 1u);
}

TEST(TemporalOrderedTest, LtFindsAWithoutBWhenTheWindowCloses) {
  auto rule = mustParse(R"(
title: Account created and not used
id: c-not-followed
correlation:
  type: temporal_ordered
  rules: [created, used]
  group-by: [TargetUserName]
  timespan: 10m
  condition: {lt: 2}
)");
  CorrelationEngine engine({rule});
  CollectingSink sink;
  engine.onRuleMatch("", "created", makeEvent(1, 0, {{"TargetUserName", "svc1"}}, 4720), sink);
  engine.onRuleMatch("", "created", makeEvent(2, 5, {{"TargetUserName", "svc2"}}, 4720), sink);
  engine.onRuleMatch("", "used", makeEvent(3, 60, {{"TargetUserName", "svc2"}}, 4624), sink);
  EXPECT_TRUE(sink.alerts.empty());
  engine.advanceTo(at(3600), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_EQ(sink.alerts[0].group_by[0].value, "svc1");
  EXPECT_EQ(sink.alerts[0].contributing_keys, keys({1}));
}

// --- chains of correlations, generate, references ---------------------------------------------

const char* const kOuter = R"(
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
level: high
correlation:
  type: temporal_ordered
  rules:
    - multiple_failed_login
    - successful_login
  group-by:
    - User
  timespan: 10m
)";
const char* const kInner = R"(
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
  type: event_count
  rules:
    - failed_login
  group-by:
    - User
  timespan: 10m
  condition:
    gte: 3
)";

TEST(ChainTest, CorrelationOfCorrelationEmitsOnlyTheOuterAlert) {
  CorrelationEngine engine({mustParse(kOuter), mustParse(kInner)});
  ASSERT_TRUE(engine.validate().ok());
  CollectingSink sink;
  auto ev = [](uint64_t r, int64_t t, const char* user, uint32_t id) {
    return makeEvent(r, t, {{"User", user}}, id);
  };
  engine.onRuleMatch("53ba33fd", "failed_login", ev(1, 0, "alice", 4625), sink);
  engine.onRuleMatch("4d0a2c83", "successful_login", ev(2, 5, "alice", 4624), sink);  // too early
  engine.onRuleMatch("53ba33fd", "failed_login", ev(3, 10, "alice", 4625), sink);
  engine.onRuleMatch("53ba33fd", "failed_login", ev(4, 20, "alice", 4625), sink);
  EXPECT_TRUE(sink.alerts.empty());  // the inner correlation fired but does not alert itself
  EXPECT_EQ(engine.stats().rules[1].alerts, 1u);
  engine.onRuleMatch("4d0a2c83", "successful_login", ev(5, 30, "bob", 4624), sink);
  EXPECT_TRUE(sink.alerts.empty());
  engine.onRuleMatch("4d0a2c83", "successful_login", ev(6, 40, "alice", 4624), sink);
  ASSERT_EQ(sink.alerts.size(), 1u);
  const Alert& a = sink.alerts[0];
  EXPECT_EQ(a.rule_id, "b180ead8-d58f-40b2-ae54-c8940995b9b6");
  EXPECT_EQ(a.contributing_keys, keys({1, 3, 4, 6}));
  EXPECT_EQ(a.contributing_rules, (std::vector<std::string>{"multiple_failed_login", "failed_login",
                                                            "successful_login"}));
  EXPECT_EQ(engine.stats().alerts_emitted, 1u);

  EXPECT_TRUE(engine.suppressesStandalone("53ba33fd", "failed_login"));
  EXPECT_TRUE(engine.suppressesStandalone("4d0a2c83", "successful_login"));
  EXPECT_FALSE(engine.suppressesStandalone("x", "unrelated"));
  EXPECT_TRUE(engine.isReferenced("", "multiple_failed_login"));
  ASSERT_EQ(engine.references().size(), 3u);
  for (const auto& r : engine.references()) {
    EXPECT_EQ(r.is_correlation, r.ref == "multiple_failed_login") << r.ref;
    EXPECT_FALSE(r.generate);
  }
}

TEST(ChainTest, GenerateTrueKeepsReferencedRulesAlerting) {
  auto outer = mustParse(kOuter);
  outer.generate = true;
  CorrelationEngine engine({outer, mustParse(kInner)});
  CollectingSink sink;
  for (uint64_t i = 1; i <= 3; ++i) {
    engine.onRuleMatch("", "failed_login", makeEvent(i, i, {{"User", "alice"}}), sink);
  }
  ASSERT_EQ(sink.alerts.size(), 1u);  // the inner correlation now alerts on its own
  EXPECT_EQ(sink.alerts[0].rule_id, "a8418a5a-5fc4-46b5-b23b-6c73beb19d41");
  engine.onRuleMatch("", "successful_login", makeEvent(9, 9, {{"User", "alice"}}, 4624), sink);
  ASSERT_EQ(sink.alerts.size(), 2u);
  EXPECT_EQ(sink.alerts[1].rule_id, "b180ead8-d58f-40b2-ae54-c8940995b9b6");
  EXPECT_FALSE(engine.suppressesStandalone("", "successful_login"));
  // failed_login is listed only by the inner correlation, which has generate: false.
  EXPECT_TRUE(engine.suppressesStandalone("", "failed_login"));
}

TEST(ChainTest, CyclesAreReportedAndCutAtRunTime) {
  auto a = mustParse(R"(
title: A
id: corr-a
correlation: {type: event_count, rules: [base, corr-b], timespan: 5m, condition: {gte: 1}}
)");
  auto b = mustParse(R"(
title: B
id: corr-b
correlation: {type: event_count, rules: [corr-a], timespan: 5m, condition: {gte: 1}}
)");
  CorrelationEngine engine({a, b});
  Status s = engine.validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("corr-a -> corr-b -> corr-a"), std::string::npos)
      << s.error().message;
  CollectingSink sink;
  engine.onRuleMatch("", "base", makeEvent(1, 0, {}), sink);  // must terminate
  EXPECT_GT(engine.stats().cycle_drops, 0u);
}

// --- bounds, time -----------------------------------------------------------------------------

TEST(LimitsTest, GroupEvictionIsCounted) {
  auto rule = mustParse(kFailedLogins);
  CorrelationEngine engine({rule}, CorrelationLimits{2, 100});
  CollectingSink sink;
  uint64_t record = 1;
  auto hit = [&](const char* ip, int64_t t) {
    engine.onRuleMatch("", "failed_logon", makeEvent(record++, t, {{"IpAddress", ip}}), sink);
  };
  for (int i = 0; i < 4; ++i) hit("10.0.0.1", i);  // 4 of 5 for the oldest group
  hit("10.0.0.2", 5);
  hit("10.0.0.3", 6);  // third group: evicts 10.0.0.1
  EXPECT_EQ(engine.stats().rules[0].groups_evicted, 1u);
  EXPECT_EQ(engine.stats().groupsEvicted(), 1u);
  EXPECT_EQ(engine.stats().rules[0].active_groups, 2u);
  hit("10.0.0.1", 7);  // starts afresh (and evicts 10.0.0.2): no alert
  EXPECT_TRUE(sink.alerts.empty());
  EXPECT_EQ(engine.stats().rules[0].groups_evicted, 2u);
}

TEST(LimitsTest, EventEvictionIsCounted) {
  auto rule = mustParse(kFailedLogins);
  CorrelationEngine engine({rule}, CorrelationLimits{10, 3});
  CollectingSink sink;
  for (uint64_t i = 0; i < 6; ++i) {
    engine.onRuleMatch("", "failed_logon", makeEvent(i, i, {{"IpAddress", "10.0.0.1"}}), sink);
  }
  // Only 3 events are held, so gte 5 cannot be reached; the 3 dropped events are counted.
  EXPECT_TRUE(sink.alerts.empty());
  EXPECT_EQ(engine.stats().rules[0].events_evicted, 3u);
  EXPECT_EQ(engine.stats().eventsEvicted(), 3u);
}

TEST(LimitsTest, ExpiredGroupsAreFreed) {
  CorrelationEngine engine({mustParse(kFailedLogins)});
  CollectingSink sink;
  for (uint64_t i = 0; i < 50; ++i) {
    engine.onRuleMatch("", "failed_logon",
                       makeEvent(i, i, {{"IpAddress", "10.0.1." + std::to_string(i)}}), sink);
  }
  EXPECT_EQ(engine.stats().rules[0].active_groups, 50u);
  engine.advanceTo(at(200), sink);
  EXPECT_EQ(engine.stats().rules[0].active_groups, 0u);
  EXPECT_EQ(engine.stats().rules[0].groups_evicted, 0u);
}

// Every kind of correlation at once, fed the same random matches over many groups.
std::vector<CorrelationRule> everyKind() {
  return {mustParse(kFailedLogins), mustParse(kPasswordSpray), mustParse(kRecon),
          mustParse(kOrdered), mustParse(kFewLogons)};
}

void feedRandomMatches(CorrelationEngine& engine, AlertSink& sink, int n, int groups,
                       const std::function<void()>& after_each = {}) {
  static const char* const kRules[] = {"failed_logon", "failed_logon_4625",
                                       "recon_a",      "recon_b",
                                       "recon_c",      "step_a",
                                       "step_b",       "step_c",
                                       "logon"};
  std::mt19937 rng(11);
  for (int i = 0; i < n; ++i) {
    const std::string g = std::to_string(rng() % groups);
    auto e = makeEvent(static_cast<uint64_t>(i), i / 4,
                       {{"IpAddress", "10.0." + g},
                        {"TargetUserName", "user" + std::to_string(rng() % 50)},
                        {"SubjectUserName", "admin" + g},
                        {"Padding", std::string(rng() % 300, 'p')}});
    engine.onRuleMatch("", kRules[rng() % std::size(kRules)], e, sink);
    if (after_each) after_each();
  }
}

TEST(LimitsTest, OneByteBudgetBoundsTheStateOfAllCorrelations) {
  CorrelationLimits limits;
  limits.max_state_bytes = 256 * 1024;
  CorrelationEngine engine(everyKind(), limits);
  CollectingSink sink;
  size_t peak = 0;
  feedRandomMatches(engine, sink, 20000, 5000,
                    [&] { peak = std::max(peak, engine.stats().state_bytes); });
  EXPECT_LE(peak, limits.max_state_bytes);
  EXPECT_GT(peak, limits.max_state_bytes / 2) << "the budget was used, not just respected";
  uint64_t evicted = 0;
  for (const auto& r : engine.stats().rules) evicted += r.budget_evictions;
  EXPECT_GT(evicted, 0u);
  // The newest windows are the ones kept: a fresh burst still raises its alert.
  sink.alerts.clear();
  for (uint64_t i = 0; i < 5; ++i) {
    engine.onRuleMatch(
        "", "failed_logon",
        makeEvent(900000 + i, 5000 + static_cast<int64_t>(i), {{"IpAddress", "192.0.2.1"}}), sink);
  }
  ASSERT_FALSE(sink.alerts.empty());
  EXPECT_EQ(sink.alerts.back().rule_id, "0e95725d-7320-415d-80f7-004da920fc11");
}

TEST(LimitsTest, StateBytesComeBackToZeroWhenEveryWindowHasClosed) {
  // The charge is kept incrementally; any drift would show here as a non-zero (or wrapped) sum.
  CorrelationEngine engine(everyKind());
  CollectingSink sink;
  size_t mismatches = 0;
  feedRandomMatches(engine, sink, 5000, 40, [&] {
    if (engine.stats().state_bytes != engine.recountStateBytes()) ++mismatches;
  });
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GT(engine.stats().state_bytes, 0u);
  engine.advanceTo(at(1'000'000), sink);
  EXPECT_EQ(engine.stats().state_bytes, 0u);
  feedRandomMatches(engine, sink, 3000, 40);
  engine.flush(sink);
  EXPECT_EQ(engine.stats().state_bytes, 0u);
}

TEST(TimeTest, UntimedEventsUseArrivalOrderAtTheWatermark) {
  auto rule = mustParse(kFailedLogins);
  CorrelationEngine engine({rule});
  CollectingSink sink;
  for (uint64_t i = 0; i < 5; ++i) {
    engine.onRuleMatch("", "failed_logon", makeEvent(i, std::nullopt, {{"IpAddress", "10.0.0.1"}}),
                       sink);
  }
  ASSERT_EQ(sink.alerts.size(), 1u);
  EXPECT_FALSE(sink.alerts[0].time);  // no event time was ever seen
  EXPECT_EQ(engine.stats().untimed_events, 5u);

  // After a timed event, untimed ones take its time.
  engine.onRuleMatch("", "failed_logon", makeEvent(10, 100, {{"IpAddress", "10.0.0.2"}}), sink);
  for (uint64_t i = 11; i < 15; ++i) {
    engine.onRuleMatch("", "failed_logon", makeEvent(i, std::nullopt, {{"IpAddress", "10.0.0.2"}}),
                       sink);
  }
  ASSERT_EQ(sink.alerts.size(), 2u);
  EXPECT_EQ(sink.alerts[1].time, at(100));
}

TEST(TimeTest, OlderEventsAreClampedToTheWatermarkAndCounted) {
  auto rule = mustParse(kFailedLogins);
  CorrelationEngine engine({rule});
  CollectingSink sink;
  engine.onRuleMatch("", "failed_logon", makeEvent(1, 1000, {{"IpAddress", "10.0.0.1"}}), sink);
  engine.onRuleMatch("", "failed_logon", makeEvent(2, 10, {{"IpAddress", "10.0.0.1"}}), sink);
  EXPECT_EQ(engine.stats().clamped_events, 1u);
  EXPECT_EQ(engine.eventTime(), at(1000));
  engine.advanceTo(at(5), sink);  // time never runs backwards
  EXPECT_EQ(engine.eventTime(), at(1000));
}

std::shared_ptr<const Event> fromSource(const std::string& source, uint64_t record, int64_t seconds,
                                        const std::string& ip) {
  auto e = std::const_pointer_cast<Event>(makeEvent(record, seconds, {{"IpAddress", ip}}));
  e->origin.source = source;
  return e;
}

// A backlog on one source (history read at first start) while another source is live: each
// keeps its own event time. Five failures an hour apart in the backlog are no burst, however
// late they are read; four failures within a minute in the backlog still meet their fifth
// after the live source has moved on by a day.
TEST(TimeTest, EachSourceHasItsOwnClock) {
  auto rule = mustParse(kFailedLogins);
  CorrelationEngine engine({rule});
  CollectingSink sink;
  const int64_t day = 86400;
  uint64_t record = 1;
  for (int i = 0; i < 5; ++i) {
    engine.onRuleMatch("", "failed_logon", fromSource("live", record++, 10 * day + i, "10.9.9.9"),
                       sink);
    engine.onRuleMatch("", "failed_logon", fromSource("backlog", record++, i * 3600, "10.0.0.1"),
                       sink);
  }
  ASSERT_EQ(sink.alerts.size(), 1u) << "the live burst only";
  EXPECT_EQ(sink.alerts[0].group_by[0].value, "10.9.9.9");
  EXPECT_EQ(engine.stats().clamped_events, 0u);

  for (int i = 0; i < 4; ++i) {
    engine.onRuleMatch("", "failed_logon",
                       fromSource("backlog", record++, 5 * 3600 + i, "10.0.0.2"), sink);
  }
  engine.onRuleMatch("", "failed_logon", fromSource("live", record++, 11 * day, "10.9.9.8"), sink);
  engine.onRuleMatch("", "failed_logon", fromSource("backlog", record++, 5 * 3600 + 30, "10.0.0.2"),
                     sink);
  ASSERT_EQ(sink.alerts.size(), 2u);
  EXPECT_EQ(sink.alerts[1].group_by[0].value, "10.0.0.2");
  EXPECT_EQ(sink.alerts[1].time, at(5 * 3600 + 30)) << "the backlog's own time";
  EXPECT_EQ(engine.eventTime(), at(11 * day)) << "the newest of all sources";
}

TEST(TimeTest, NullEventIsIgnoredAndCounted) {
  CorrelationEngine engine({mustParse(kFailedLogins)});
  CollectingSink sink;
  engine.onRuleMatch("", "failed_logon", nullptr, sink);
  EXPECT_EQ(engine.stats().null_events, 1u);
  EXPECT_EQ(engine.stats().rules[0].matches, 0u);
}

TEST(EngineTest, MovedEngineKeepsState) {
  CorrelationEngine first({mustParse(kFailedLogins)});
  CollectingSink sink;
  for (uint64_t i = 0; i < 4; ++i) {
    first.onRuleMatch("", "failed_logon", makeEvent(i, i, {{"IpAddress", "10.0.0.1"}}), sink);
  }
  CorrelationEngine engine = std::move(first);
  engine.onRuleMatch("", "failed_logon", makeEvent(4, 4, {{"IpAddress", "10.0.0.1"}}), sink);
  EXPECT_EQ(sink.alerts.size(), 1u);
  engine.reset();
  EXPECT_FALSE(engine.eventTime());
  EXPECT_EQ(engine.rules().size(), 1u);
}

}  // namespace
}  // namespace t0w
