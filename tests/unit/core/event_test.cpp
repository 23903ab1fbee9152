#include "agent/core/event.h"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "agent/core/event_json.h"

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

// Every member set, strings long enough to be on the heap.
Event fullEvent() {
  Event e;
  e.system.provider_name = "Microsoft-Windows-Security-Auditing";
  e.system.provider_guid = "{54849625-5478-4994-a5ba-3e3b0328c30d}";
  e.system.event_source_name = "Some classic source name";
  e.system.event_id = 4624;
  e.system.qualifiers = 16384;
  e.system.version = 2;
  e.system.level = 4;
  e.system.task = 12544;
  e.system.opcode = 1;
  e.system.keywords = 0x8020000000000000ull;
  e.system.time_created = 130000000000000000;
  e.system.record_id = 99;
  e.system.activity_id = "{00000000-0000-0000-0000-000000000001}";
  e.system.related_activity_id = "{00000000-0000-0000-0000-000000000002}";
  e.system.process_id = 4;
  e.system.thread_id = 8;
  e.system.channel = "Microsoft-Windows-Sysmon/Operational";
  e.system.computer = "workstation-0001.corp.example.com";
  e.system.user_sid = "S-1-5-21-1111111111-2222222222-3333333333-1001";
  e.data_section = Event::DataSection::kUserData;
  e.user_data_root = "LogFileClearedWithALongName";
  e.binary = {1, 2, 3};
  e.rendering.emplace().message = "An account was successfully logged on, in a long message.";
  e.origin.source = "/var/tmp/some/long/path/to/a/file.xml";
  e.origin.position = 1234;
  e.origin.file_id = "1234:5678#1 with a long tail";
  e.addField("AuthenticationPackageName", "Negotiate and a long value past SSO");
  e.addField("TargetUserName", "alice");
  return e;
}

// Rules hash their field names at compile time or at load, events at run time: both must agree.
TEST(EventTest, FieldHashIsTheSameAtCompileTimeAndAtRunTime) {
  static constexpr std::string_view kText = "AuthenticationPackageName.Target@User:Name";
  constexpr auto kAtCompileTime = [] {
    std::array<uint32_t, kText.size() + 1> h{};
    for (size_t n = 0; n <= kText.size(); ++n) h[n] = fieldHash(kText.substr(0, n));
    return h;
  }();
  std::set<uint32_t> distinct;
  for (size_t n = 0; n <= kText.size(); ++n) {
    const std::string name(kText.substr(0, n));  // not a constant
    EXPECT_EQ(fieldHash(name), kAtCompileTime[n]) << name;
    distinct.insert(fieldHash(name));
  }
  EXPECT_EQ(distinct.size(), kText.size() + 1);
}

TEST(EventTest, ClearGivesTheSameContentAsADefaultEvent) {
  Event e = fullEvent();
  e.clear();
  EXPECT_EQ(eventToJsonLine(e), eventToJsonLine(Event{}));
  EXPECT_TRUE(e.fields().empty());
  EXPECT_FALSE(e.system.qualifiers || e.system.time_created || e.system.process_id ||
               e.system.thread_id || e.rendering);
  EXPECT_EQ(e.data_section, Event::DataSection::kNone);
  EXPECT_TRUE(e.binary.empty() && e.origin.file_id.empty() && e.user_data_root.empty());
  EXPECT_EQ(e.find("TargetUserName"), nullptr);
  EXPECT_EQ(e.keptFields(), 2u);
}

TEST(EventTest, ClearOnAMovedFromEventGivesADefaultEvent) {
  Event e = fullEvent();
  Event taken = std::move(e);
  e.clear();
  EXPECT_EQ(eventToJsonLine(e), eventToJsonLine(Event{}));
  EXPECT_EQ(e.keptFields(), 0u);
  e.appendField("TargetUserName").value = "bob";
  EXPECT_EQ(*e.find("TargetUserName"), "bob");
  EXPECT_EQ(*taken.find("TargetUserName"), "alice");
}

TEST(EventTest, AppendFieldAfterClearReusesNamesAndHashes) {
  Event e = fullEvent();
  e.clear();
  // Same names in the same order, then a different one: names and hashes as if new.
  e.appendField("AuthenticationPackageName").value = "NTLM";
  e.appendField("SubjectUserName").value = "carol";
  e.appendField("Extra").value = "x";
  EXPECT_EQ(e.keptFields(), 0u);
  ASSERT_EQ(e.fields().size(), 3u);
  for (const EventField& f : e.fields()) EXPECT_EQ(f.hash, fieldHash(f.name)) << f.name;
  EXPECT_EQ(e.fields()[0].name, "AuthenticationPackageName");
  EXPECT_EQ(*e.find(FieldKey("AuthenticationPackageName")), "NTLM");
  EXPECT_EQ(*e.find(FieldKey("SubjectUserName")), "carol");
  EXPECT_EQ(e.find("TargetUserName"), nullptr);

  Event fresh;
  fresh.addField("AuthenticationPackageName", "NTLM");
  fresh.addField("SubjectUserName", "carol");
  fresh.addField("Extra", "x");
  EXPECT_EQ(eventToJsonLine(e), eventToJsonLine(fresh));
}

TEST(EventTest, AKeptFieldKeepsItsStringsButNotItsValue) {
  Event e = fullEvent();
  const size_t capacity = e.fields()[0].value.capacity();
  const std::string first_name = e.fields()[0].name;
  e.clear();
  ASSERT_EQ(e.keptFields(), 2u);
  // appendField takes the first kept one: the first field of the event before.
  EventField& f = e.appendField(first_name);
  EXPECT_TRUE(f.value.empty());
  EXPECT_EQ(f.value.capacity(), capacity);
  EXPECT_EQ(e.fields().size(), 1u);
  EXPECT_EQ(e.keptFields(), 1u);
}

// A smaller event between two bigger ones leaves the fields it did not take where they are: the
// second big event allocates no string that the first one had.
TEST(EventTest, FieldsAnEventDidNotTakeAreKept) {
  const std::string long_value(40, 'v');  // past the short-string buffer
  Event e;
  for (int i = 0; i < 5; ++i) e.appendField("Big" + std::to_string(i)).value = long_value;
  e.clear();
  ASSERT_EQ(e.keptFields(), 5u);
  e.appendField("Small").value = "x";
  e.appendField("Big1").value = "y";
  EXPECT_EQ(e.keptFields(), 3u);
  e.clear();
  ASSERT_EQ(e.keptFields(), 5u);  // the two this event had, then the three it did not take
  for (int i = 0; i < 5; ++i) {
    EventField& f = e.appendField("Big" + std::to_string(i));
    EXPECT_TRUE(f.value.empty()) << f.name;
    EXPECT_GE(f.value.capacity(), long_value.size()) << f.name;
    f.value = long_value;
  }
  EXPECT_EQ(e.keptFields(), 0u);
  for (const EventField& f : e.fields()) EXPECT_EQ(f.hash, fieldHash(f.name)) << f.name;
  EXPECT_EQ(*e.find("Big4"), long_value);
  EXPECT_EQ(e.find("Small"), nullptr);
  e.clear();  // twice in a row: nothing is lost
  e.clear();
  EXPECT_EQ(e.keptFields(), 5u);
  EXPECT_TRUE(e.fields().empty());
}

// An event copied out of a parser (an alert's, a correlation window's) holds its own fields, not
// the kept ones: they would be charged to the correlation budget for nothing.
TEST(EventTest, CopiesTakeTheEventsFieldsOnly) {
  Event e;
  for (int i = 0; i < 20; ++i) e.appendField("Field" + std::to_string(i)).value = "value";
  e.clear();
  e.appendField("TargetUserName").value = "alice";
  ASSERT_EQ(e.keptFields(), 19u);
  const Event copy = e;
  EXPECT_EQ(copy.keptFields(), 0u);
  ASSERT_EQ(copy.fields().size(), 1u);
  EXPECT_EQ(*copy.find("TargetUserName"), "alice");
  EXPECT_LT(copy.memoryBytes(), e.memoryBytes());
  Event assigned = fullEvent();
  assigned = e;
  EXPECT_EQ(assigned.keptFields(), 0u);
  EXPECT_EQ(eventToJsonLine(assigned), eventToJsonLine(copy));
  EXPECT_EQ(e.keptFields(), 19u) << "the source keeps what it kept";
}

TEST(EventTest, ClearDoesNotKeepTheBuffersOfAHugeEvent) {
  Event e;
  for (int i = 0; i < 1000; ++i) e.addField("Field" + std::to_string(i), std::string(8192, 'v'));
  e.clear();
  EXPECT_LE(e.keptFields(), 256u);
  EXPECT_LT(e.memoryBytes(), size_t{512} * 1024);
  const size_t kept = e.keptFields();
  for (size_t i = 0; i < kept; ++i) {
    EXPECT_LE(e.appendField("Field" + std::to_string(i)).value.capacity(), 1024u);
  }
}

}  // namespace
}  // namespace t0w
