#include "agent/cli/event_writers.h"

#include <gtest/gtest.h>

#include <sstream>

#include "agent/core/event_json.h"

namespace t0w::cli {
namespace {

Event securityEvent() {
  Event e;
  e.system.event_id = 4625;
  e.system.channel = "Security";
  e.system.computer = "DC01.corp.contoso.com";
  e.system.time_created = 133'601'472'000'000'000;  // 2024-05-14T08:00:00Z
  e.data_section = Event::DataSection::kEventData;
  e.addField("SubjectUserName", "-");
  e.addField("TargetUserName", "adele.smith");
  e.addField("Status", "0xc000006d");
  e.addField("IpAddress", "10.66.6.53");
  return e;
}

TEST(TableEventWriter, KeyFieldsPreferTheTellingOnesAndSkipDashes) {
  EXPECT_EQ(TableEventWriter::keyFields(securityEvent()),
            "TargetUserName=adele.smith IpAddress=10.66.6.53 Status=0xc000006d");
}

TEST(TableEventWriter, UnknownEventsShowTheirFirstFieldsOnOneLine) {
  Event e;
  e.addField("Data", "line one\n\tline two");
  e.addField("Data", std::string(100, 'x'));
  e.addField("Data", "third");
  e.addField("Data", "fourth");
  EXPECT_EQ(TableEventWriter::keyFields(e),
            "Data=line one line two Data=" + std::string(48, 'x') + "... Data=third");
}

TEST(TableEventWriter, WritesAHeaderThenOneRowPerEvent) {
  std::ostringstream out;
  TableEventWriter writer(out);
  writer.onEvent(securityEvent());
  Event no_time;
  no_time.system.event_id = 1;
  writer.onEvent(std::move(no_time));
  std::istringstream lines(out.str());
  std::string header, row, second;
  std::getline(lines, header);
  std::getline(lines, row);
  std::getline(lines, second);
  EXPECT_EQ(header.rfind("TIME (UTC)", 0), 0u);
  EXPECT_EQ(row.rfind("2024-05-14 08:00:00  Security ", 0), 0u) << row;
  EXPECT_NE(row.find(" 4625 "), std::string::npos);
  EXPECT_NE(row.find("DC01.corp.contoso.com"), std::string::npos);
  EXPECT_EQ(second.rfind("-  ", 0), 0u) << second;
  EXPECT_FALSE(std::getline(lines, row));
}

TEST(JsonlEventWriter, WritesEventToJsonLinePerEvent) {
  std::ostringstream out;
  JsonlEventWriter writer(out);
  Event e = securityEvent();
  const std::string expected = eventToJsonLine(e) + "\n";
  writer.onEvent(std::move(e));
  EXPECT_EQ(out.str(), expected);
}

}  // namespace
}  // namespace t0w::cli
