#include "agent/core/event.h"

#include <gtest/gtest.h>

namespace t0w {
namespace {

TEST(EventTest, FindReturnsFirstValueAndForEachSeesAll) {
  Event e;
  e.addField("Data", "a");
  e.addField("TargetUserName", "alice");
  e.addField("Data", "b");
  ASSERT_NE(e.find("TargetUserName"), nullptr);
  EXPECT_EQ(*e.find("TargetUserName"), "alice");
  EXPECT_EQ(*e.find(FieldKey("Data")), "a");
  EXPECT_EQ(e.find("targetusername"), nullptr);  // field names are case-sensitive
  std::vector<std::string> seen;
  EXPECT_EQ(e.forEachValue(FieldKey("Data"), [&](const std::string& v) { seen.push_back(v); }), 2u);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(e.find("Missing"), nullptr);
}

TEST(EventTest, SystemFieldsByTaxonomyName) {
  Event e;
  e.system.event_id = 4624;
  e.system.channel = "Security";
  e.system.keywords = 0x8020000000000000ull;
  std::string buf;
  ASSERT_EQ(systemFieldByName("EventID"), SystemField::kEventId);
  EXPECT_EQ(*e.systemText(SystemField::kEventId, buf), "4624");
  EXPECT_EQ(*e.systemText(*systemFieldByName("Channel"), buf), "Security");
  EXPECT_EQ(*e.systemText(SystemField::kKeywords, buf), "0x8020000000000000");
  EXPECT_FALSE(e.systemText(SystemField::kComputer, buf).has_value());
  EXPECT_FALSE(e.systemText(SystemField::kProcessId, buf).has_value());
  EXPECT_FALSE(systemFieldByName("NotASystemField").has_value());
}

}  // namespace
}  // namespace t0w
