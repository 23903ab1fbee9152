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
  SpareFields spare;
  e.clear(spare);
  EXPECT_EQ(eventToJsonLine(e), eventToJsonLine(Event{}));
  EXPECT_TRUE(e.fields().empty());
  EXPECT_FALSE(e.system.qualifiers || e.system.time_created || e.system.process_id ||
               e.system.thread_id || e.rendering);
  EXPECT_EQ(e.data_section, Event::DataSection::kNone);
  EXPECT_TRUE(e.binary.empty() && e.origin.file_id.empty() && e.user_data_root.empty());
  EXPECT_EQ(e.find("TargetUserName"), nullptr);
  EXPECT_EQ(spare.size(), 2u);
}

TEST(EventTest, ClearOnAMovedFromEventGivesADefaultEvent) {
  Event e = fullEvent();
  Event taken = std::move(e);
  SpareFields spare;
  e.clear(spare);
  EXPECT_EQ(eventToJsonLine(e), eventToJsonLine(Event{}));
  e.appendField("TargetUserName", spare).value = "bob";
  EXPECT_EQ(*e.find("TargetUserName"), "bob");
  EXPECT_EQ(*taken.find("TargetUserName"), "alice");
}

TEST(EventTest, AppendFieldAfterClearReusesNamesAndHashes) {
  Event e = fullEvent();
  SpareFields spare;
  e.clear(spare);
  // Same names in the same order, then a different one: names and hashes as if new.
  e.appendField("AuthenticationPackageName", spare).value = "NTLM";
  e.appendField("SubjectUserName", spare).value = "carol";
  e.appendField("Extra", spare).value = "x";
  EXPECT_TRUE(spare.empty());
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

TEST(EventTest, ASpareFieldKeepsItsStringsButNotItsValue) {
  Event e = fullEvent();
  const size_t capacity = e.fields()[0].value.capacity();
  SpareFields spare;
  e.clear(spare);
  ASSERT_EQ(spare.size(), 2u);
  // appendField takes the next one: the first field of the event before.
  EXPECT_EQ(spare.fields().front().name, "AuthenticationPackageName");
  EXPECT_TRUE(spare.fields().front().value.empty());
  EXPECT_EQ(spare.fields().front().value.capacity(), capacity);
}

// A smaller event between two bigger ones leaves the fields it did not take in the spare: the
// second big event allocates no string that the first one had.
TEST(EventTest, SpareFieldsAnEventDidNotTakeAreKept) {
  const std::string long_value(40, 'v');  // past the short-string buffer
  Event e;
  SpareFields spare;
  for (int i = 0; i < 5; ++i) e.appendField("Big" + std::to_string(i), spare).value = long_value;
  e.clear(spare);
  ASSERT_EQ(spare.size(), 5u);
  e.appendField("Small", spare).value = "x";
  e.appendField("Big1", spare).value = "y";
  e.clear(spare);
  ASSERT_EQ(spare.size(), 5u);  // the two this event had, then the three it did not take
  EXPECT_EQ(spare.fields()[0].name, "Small");
  EXPECT_EQ(spare.fields()[1].name, "Big1");
  EXPECT_EQ(spare.fields()[2].name, "Big2");
  for (const EventField& f : spare.fields()) {
    EXPECT_TRUE(f.value.empty());
    EXPECT_GE(f.value.capacity(), long_value.size()) << f.name;
    EXPECT_EQ(f.hash, fieldHash(f.name)) << f.name;
  }
  for (int i = 0; i < 5; ++i) e.appendField("Big" + std::to_string(i), spare).value = long_value;
  EXPECT_TRUE(spare.empty());
  for (const EventField& f : e.fields()) EXPECT_EQ(f.hash, fieldHash(f.name)) << f.name;
  EXPECT_EQ(*e.find("Big4"), long_value);
  e.clear(spare);  // twice in a row: nothing is lost
  e.clear(spare);
  EXPECT_EQ(spare.size(), 5u);
}

TEST(EventTest, ClearDoesNotKeepTheBuffersOfAHugeEvent) {
  Event e;
  for (int i = 0; i < 1000; ++i) e.addField("Field" + std::to_string(i), std::string(8192, 'v'));
  SpareFields spare;
  e.clear(spare);
  EXPECT_LE(spare.size(), 256u);
  for (const EventField& f : spare.fields()) EXPECT_LE(f.value.capacity(), 1024u);
  EXPECT_LE(e.fields().capacity(), 256u);
}

}  // namespace
}  // namespace t0w
