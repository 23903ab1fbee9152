#include "agent/core/event_json.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

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

// The reference for eventToJsonLine: what nlohmann writes for eventToJson's tree.
std::string referenceLine(const Event& e) {
  return eventToJson(e).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// Bytes chosen to hit every branch of UTF-8 validation and escaping: ASCII, controls, quote,
// backslash, DEL, continuation bytes, every lead byte class and its boundary second bytes.
std::string randomBytes(std::mt19937& rng, size_t max_len) {
  static constexpr unsigned char kBytes[] = {
      'a',  'Z',  ' ',  '0',  '"',  '\\', '/',  0x00, 0x01, 0x08, 0x09, 0x0A, 0x0C,
      0x0D, 0x1F, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
      0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  static constexpr const char* kValid[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                                           "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF"};
  std::uniform_int_distribution<size_t> len_dist(0, max_len);
  std::uniform_int_distribution<size_t> byte_dist(0, sizeof kBytes - 1);
  std::uniform_int_distribution<size_t> valid_dist(0, std::size(kValid) - 1);
  std::uniform_int_distribution<int> coin(0, 9);
  std::string s;
  const size_t n = len_dist(rng);
  for (size_t i = 0; i < n; ++i) {
    if (coin(rng) == 0) {
      s += kValid[valid_dist(rng)];
    } else {
      s.push_back(static_cast<char>(kBytes[byte_dist(rng)]));
    }
  }
  return s;
}

std::string hex(const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
    out.push_back(' ');
  }
  return out;
}

TEST(EventJsonTest, StringsAreEscapedExactlyAsNlohmannDoes) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    const std::string s = randomBytes(rng, 12);
    std::string mine;
    appendJsonString(mine, s);
    const std::string reference =
        nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    ASSERT_EQ(mine, reference) << "input bytes: " << hex(s);
  }
  std::string truncated;
  appendJsonString(truncated, "ok\xE2\x82");  // a sequence cut by the end of the value
  EXPECT_EQ(truncated, "\"ok\xEF\xBF\xBD\"");
}

Event randomEvent(std::mt19937& rng) {
  std::uniform_int_distribution<int> coin(0, 1);
  std::uniform_int_distribution<int> kind(0, 3);
  std::uniform_int_distribution<uint64_t> big;
  Event e;
  EventSystem& s = e.system;
  s.provider_name = randomBytes(rng, 6);
  if (coin(rng)) s.provider_guid = randomBytes(rng, 6);
  if (coin(rng)) s.event_source_name = randomBytes(rng, 6);
  s.event_id = static_cast<uint32_t>(big(rng));
  if (coin(rng)) s.qualifiers = static_cast<uint16_t>(big(rng));
  s.version = static_cast<uint8_t>(big(rng));
  s.level = static_cast<uint8_t>(big(rng));
  s.task = static_cast<uint16_t>(big(rng));
  s.opcode = static_cast<uint8_t>(big(rng));
  s.keywords = big(rng);
  if (coin(rng)) s.time_created = static_cast<int64_t>(big(rng) % 200000000000000000ull);
  s.record_id = big(rng);
  if (coin(rng)) s.activity_id = randomBytes(rng, 3);
  if (coin(rng)) s.related_activity_id = randomBytes(rng, 3);
  if (coin(rng)) s.process_id = static_cast<uint32_t>(big(rng));
  if (coin(rng)) s.thread_id = static_cast<uint32_t>(big(rng));
  s.channel = randomBytes(rng, 8);
  s.computer = randomBytes(rng, 8);
  if (coin(rng)) s.user_sid = randomBytes(rng, 8);
  switch (kind(rng)) {
    case 0:
      e.data_section = Event::DataSection::kEventData;
      break;
    case 1:
      e.data_section = Event::DataSection::kUserData;
      e.user_data_root = randomBytes(rng, 5);
      break;
    default:
      break;  // kNone, with or without fields
  }
  // Few fields (the common case) or many (over the writer's linear-search size); names from a
  // small set so that they repeat.
  const size_t fields = coin(rng) ? big(rng) % 8 : 30 + big(rng) % 60;
  static constexpr const char* kNames[] = {"Data", "TargetUserName", "IpAddress", "A.B@c", "q\"x"};
  for (size_t i = 0; i < fields; ++i) {
    std::string name = coin(rng) ? std::string(kNames[big(rng) % std::size(kNames)])
                                 : "F" + std::to_string(big(rng) % 50);
    e.addField(std::move(name), randomBytes(rng, 10));
  }
  if (coin(rng)) {
    e.binary.resize(big(rng) % 5);
    for (auto& b : e.binary) b = static_cast<uint8_t>(big(rng));
  }
  if (coin(rng)) {
    RenderingInfo& r = e.rendering.emplace();
    if (coin(rng)) {  // otherwise all empty: eventToJson writes null
      r.culture = randomBytes(rng, 4);
      r.message = randomBytes(rng, 12);
      if (coin(rng)) r.level = randomBytes(rng, 4);
      if (coin(rng)) r.task = randomBytes(rng, 4);
      if (coin(rng)) r.opcode = randomBytes(rng, 4);
      if (coin(rng)) r.channel = randomBytes(rng, 4);
      if (coin(rng)) r.provider = randomBytes(rng, 4);
      for (size_t k = big(rng) % 3; k > 0; --k) r.keywords.push_back(randomBytes(rng, 4));
    }
  }
  e.origin.source = randomBytes(rng, 10);
  e.origin.position = big(rng);
  return e;
}

TEST(EventJsonTest, LineIsByteIdenticalToTheJsonTreeDump) {
  std::mt19937 rng(777);
  for (int i = 0; i < 3000; ++i) {
    const Event e = randomEvent(rng);
    ASSERT_EQ(eventToJsonLine(e), referenceLine(e)) << "event " << i;
  }
  // Appending keeps what the buffer held.
  std::string buf = "x";
  const Event e = randomEvent(rng);
  appendEventJsonLine(buf, e);
  EXPECT_EQ(buf, "x" + referenceLine(e));
}

// The usual event: up to the writer's linear size, names mostly all different (its fast path),
// now and then one repeated, or two names in the same slot of its table of hashes.
TEST(EventJsonTest, DistinctAndRepeatedNamesMatchTheTree) {
  std::mt19937 rng(4321);
  for (int i = 0; i < 2000; ++i) {
    Event e;
    e.data_section = Event::DataSection::kEventData;
    const size_t n = 1 + rng() % 34;
    for (size_t k = 0; k < n; ++k) {
      std::string name = "Field" + std::to_string(k);
      if (rng() % 40 == 0) name = "Field" + std::to_string(rng() % (k + 1));  // repeated
      e.addField(std::move(name), randomBytes(rng, 40));
    }
    ASSERT_EQ(eventToJsonLine(e), referenceLine(e)) << "event " << i;
  }
  // Two names whose hashes meet in the table (found by search), the first one repeated.
  std::unordered_map<uint32_t, std::string> seen;
  std::vector<std::string> pair;
  for (int k = 0; pair.empty() && k < 2000000; ++k) {
    const std::string name = "n" + std::to_string(k);
    auto [it, inserted] = seen.emplace(fieldHash(name) % 64, name);
    if (!inserted) pair = {it->second, name};
  }
  ASSERT_EQ(pair.size(), 2u);
  Event e;
  e.addField(pair[0], "a");
  e.addField(pair[1], "b");
  e.addField(pair[0], "c");
  EXPECT_EQ(eventToJsonLine(e), referenceLine(e));
}

// The writer copies short pieces by size class (0-3, 4-7, 8-15, 16-32 bytes, longer), gathers
// the line in a 4 KiB stage that it empties into the output when full, and writes strings over
// 2 KiB straight to the output: plain and escaped names and values of every size up to 70 and
// around 2 KiB, in lines shorter and longer than the stage, each after what the output held.
TEST(EventJsonTest, PiecesOfEverySizeAndLinesLongerThanTheStageMatchTheTree) {
  std::mt19937 rng(2468);
  auto plain = [&rng](size_t n) {
    std::string v(n, 'v');
    for (char& c : v) {
      c = static_cast<char>(' ' + rng() % 95);
      if (c == '"' || c == '\\') c = 'x';
    }
    return v;
  };
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 70; ++n) sizes.push_back(n);
  for (size_t n = 2040; n <= 2056; ++n) sizes.push_back(n);
  sizes.push_back(5000);
  for (size_t n : sizes) {
    for (int escaped = 0; escaped < 2; ++escaped) {
      Event e;
      e.data_section = Event::DataSection::kEventData;
      e.system.computer = plain(n);
      for (int k = 0; k < 3; ++k) {
        std::string name = plain(n % 40 + 1);
        std::string value = plain(n);
        if (escaped && !value.empty()) value[rng() % value.size()] = '"';
        if (escaped && k == 2) name[0] = '\\';
        e.addField("N" + std::to_string(k) + name, std::move(value));
      }
      std::string line = "held";
      appendEventJsonLine(line, e);
      ASSERT_EQ(line, "held" + referenceLine(e)) << "size " << n << " escaped " << escaped;
    }
  }
  // Many small fields: the stage fills and is emptied several times within one line.
  Event e;
  e.data_section = Event::DataSection::kEventData;
  for (int k = 0; k < 600; ++k) e.addField("Field" + std::to_string(k), plain(k % 33));
  ASSERT_GT(referenceLine(e).size(), 3 * 4096u);
  EXPECT_EQ(eventToJsonLine(e), referenceLine(e));
}

// Whether a name needs escaping is found when the name is set: a field refilled in place by
// the next event (Event::clear, appendField) with another name, plain or not, is written as its
// new name requires.
TEST(EventJsonTest, NamesRefilledInPlaceAreEscapedAsTheyNowRequire) {
  Event e;
  const std::vector<std::vector<std::string>> events = {
      {"Plain", "Also"},
      {"Quo\"te", "Also"},
      {"Plain", "Back\\slash"},
      {"Plain", "Also"},
      {"Ctl\x01", std::string("Nul\0x", 5), "Third"},
      {"Plain"}};
  for (const auto& names : events) {
    e.clear();
    e.data_section = Event::DataSection::kEventData;
    for (const std::string& name : names) e.appendField(name).value = "v";
    ASSERT_EQ(eventToJsonLine(e), referenceLine(e)) << names[0];
  }
  e.addField("add\"ed", "v");
  EXPECT_EQ(eventToJsonLine(e), referenceLine(e));
  const Event copy = e;
  EXPECT_EQ(eventToJsonLine(copy), referenceLine(e));
}

TEST(EventJsonTest, StringsWithLongPlainRunsAreEscapedAsNlohmannDoes) {
  std::mt19937 rng(99);
  for (int i = 0; i < 20000; ++i) {
    // Mostly plain ASCII, so that the eight-byte steps meet specials at every position.
    std::string s(rng() % 40, 'a');
    for (char& c : s) c = static_cast<char>(' ' + rng() % 95);
    for (int k = rng() % 3; k > 0 && !s.empty(); --k) {
      static constexpr char kSpecial[] = {'"',    '\\',   '\x1F', '\x00',
                                          '\x7F', '\xC3', '\xE2', '\xFF'};
      s[rng() % s.size()] = kSpecial[rng() % sizeof kSpecial];
    }
    std::string mine = "prefix";
    appendJsonString(mine, s);
    const std::string reference =
        nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    ASSERT_EQ(mine, "prefix" + reference) << "input bytes: " << hex(s);
  }
}

TEST(EventJsonTest, EmptyEventMatchesTheTree) {
  Event e;
  EXPECT_EQ(eventToJsonLine(e), referenceLine(e));
  e.rendering.emplace();
  EXPECT_EQ(eventToJsonLine(e), referenceLine(e));
  EXPECT_NE(eventToJsonLine(e).find("\"RenderingInfo\":null"), std::string::npos);
}

}  // namespace
}  // namespace t0w
