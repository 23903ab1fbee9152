#include "agent/core/event_json.h"

#include <gtest/gtest.h>

namespace t0w {
namespace {

TEST(EventJsonTest, RepeatedFieldsBecomeArraysAndBadUtf8IsReplaced) {
  Event e;
  e.system.provider_name = "P";
  e.system.event_id = 1;
  e.data_section = Event::DataSection::kEventData;
  e.addField("Data", "a");
  e.addField("Data", "b");
  e.addField("Bad", std::string("x\xff", 2));
  auto j = eventToJson(e);
  EXPECT_EQ(j["EventData"]["Data"], nlohmann::ordered_json::array({"a", "b"}));
  std::string line = eventToJsonLine(e);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("\"Bad\":\"x\xEF\xBF\xBD\""), std::string::npos);
}

}  // namespace
}  // namespace t0w
