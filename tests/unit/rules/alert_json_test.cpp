#include "agent/rules/alert_json.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>

namespace t0w {
namespace {

// The direct writer must give exactly what the JSON tree gives (the schema tests and every
// reader of alerts were written against the tree's output).
std::string viaTree(const Alert& a) {
  return alertToJson(a).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::shared_ptr<const Event> event(const std::string& odd) {
  auto e = std::make_shared<Event>();
  e->system.provider_name = "Microsoft-Windows-Security-Auditing";
  e->system.channel = "Security";
  e->system.computer = "DC01";
  e->system.event_id = 4634;
  e->system.record_id = 77;
  e->system.time_created = 133'000'000'000'000'000;
  e->data_section = Event::DataSection::kEventData;
  e->addField("TargetUserName", odd);
  e->addField("Data", "a");
  e->addField("Data", "b");
  return e;
}

TEST(AlertJsonTest, DirectWriterMatchesTheTree) {
  const std::string odd = std::string("quote\" back\\ tab\t nl\n ctl\x01 del\x7f é \xff\xfe bad ") +
                          "\xe2\x82" + " cut";
  Alert a;
  a.rule_id = "id-" + odd;
  a.rule_title = "User Logoff Event";
  a.level = "informational";
  EXPECT_EQ(alertToJsonLine(a), viaTree(a)) << "the least alert";
  a.tags = {"attack.t1110", odd};
  a.rule_file = "C:\\rules\\x.yml";
  a.time = 133'000'000'000'000'001;
  a.event = event(odd);
  a.matched = {{"EventID", "4634"}, {"TargetUserName", odd}};
  EXPECT_EQ(alertToJsonLine(a), viaTree(a)) << "a base rule's alert";
  a.correlation_type = "event_count";
  a.group_by = {{"IpAddress", "10.0.0.1"}, {"User", odd}, {"IpAddress", "10.0.0.2"}};
  a.contributing_rules = {"failed_logon"};
  a.contributing_keys = {"Security:1", "Security:2"};
  EXPECT_EQ(alertToJsonLine(a), viaTree(a)) << "a correlation, a group-by name given twice";
  a.event.reset();
  a.group_by.clear();
  EXPECT_EQ(alertToJsonLine(a), viaTree(a)) << "no event, no group";
}

TEST(AlertJsonTest, DirectWriterMatchesTheTreeOnRandomBytes) {
  std::mt19937 rng(5);
  auto bytes = [&rng] {
    std::string s(rng() % 12, ' ');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    Alert a;
    a.rule_id = bytes();
    a.rule_title = bytes();
    a.level = bytes();
    a.tags = {bytes(), bytes()};
    a.rule_file = bytes();
    a.matched = {{bytes(), bytes()}};
    if (i % 2) {
      a.correlation_type = "value_count";
      a.group_by = {{bytes(), bytes()}, {bytes(), bytes()}};
      a.contributing_keys = {bytes()};
    }
    if (i % 3 == 0) a.event = event(bytes());
    ASSERT_EQ(alertToJsonLine(a), viaTree(a)) << i;
  }
}

}  // namespace
}  // namespace t0w
