// The collector's strict one-pass JSON reader: the events it gives a handler, the offsets it
// publishes, and that it accepts exactly what nlohmann accepts (it hands the rest to nlohmann).
#include "common/wire/fast_json_reader.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace t0w {
namespace {

// Writes down each event; "{@3" is an object whose '{' is at byte 3 (from the read pointer).
struct Recorder {
  std::string_view doc;
  const char* read = nullptr;
  std::vector<std::string> events;
  std::vector<const char*> string_data;  // where each string value's view points
  size_t stop_after = SIZE_MAX;          // returns false from this event on

  bool note(std::string e) {
    events.push_back(std::move(e));
    return events.size() <= stop_after;
  }
  std::string at() const { return "@" + std::to_string(read - doc.data() - 1); }
  bool start_object(std::size_t n) {
    return note("{" + at() + (n == static_cast<std::size_t>(-1) ? "" : "?"));
  }
  bool end_object() { return note("}" + at()); }
  bool start_array(std::size_t) { return note("[" + at()); }
  bool end_array() { return note("]"); }
  bool keyValue(std::string_view k) { return note("k:" + std::string(k)); }
  bool stringValue(std::string_view s) {
    string_data.push_back(s.data());
    return note("s:" + std::string(s));
  }
  bool boolean(bool b) { return note(b ? "true" : "false"); }
  bool null() { return note("null"); }
  bool number_unsigned(uint64_t v) { return note("u:" + std::to_string(v)); }
  bool number_integer(int64_t v) { return note("i:" + std::to_string(v)); }
  bool floatValue() { return note("f"); }
};

struct ReadResult {
  bool ok = false;
  bool syntax_error = false;
  std::vector<std::string> events;
};

ReadResult read(std::string_view text, size_t stop_after = SIZE_MAX) {
  Recorder r;
  r.doc = text;
  r.read = text.data();
  r.stop_after = stop_after;
  FastJsonReader<Recorder> reader(text, r, &r.read);
  ReadResult out;
  out.ok = reader.run();
  out.syntax_error = reader.syntaxError();
  out.events = std::move(r.events);
  return out;
}

using Events = std::vector<std::string>;

TEST(FastJsonReader, ReportsValuesInOrderWithTheOffsetsOfBraces) {
  const ReadResult r = read(R"( {"a": [1, -2, 1.5, true, false, null], "b" : {}, "c":{"d":"x"}} )");
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.syntax_error);
  EXPECT_EQ(r.events, (Events{"{@1", "k:a", "[@7", "u:1", "i:-2", "f", "true", "false", "null", "]",
                              "k:b", "{@46", "}@47", "k:c", "{@54", "k:d", "s:x", "}@62", "}@63"}));
}

TEST(FastJsonReader, StringsAreViewsOfTheTextUnlessEscaped) {
  const std::string text = R"(["plain", "tab\tquote\"slash\/", "\u00e9\ud83d\ude00", "é😀"])";
  Recorder r;
  r.doc = text;
  r.read = text.data();
  FastJsonReader<Recorder> reader(text, r, &r.read);
  ASSERT_TRUE(reader.run());
  EXPECT_EQ(r.events, (Events{"[@0", "s:plain", "s:tab\tquote\"slash/", "s:é😀", "s:é😀", "]"}));
  ASSERT_EQ(r.string_data.size(), 4u);
  EXPECT_EQ(r.string_data[0], text.data() + 2);
  EXPECT_EQ(r.string_data[3], text.data() + text.find("é😀"));
}

TEST(FastJsonReader, TypesIntegersAsNlohmannDoes) {
  EXPECT_EQ(read("18446744073709551615").events, Events{"u:18446744073709551615"});
  EXPECT_EQ(read("-9223372036854775808").events, Events{"i:-9223372036854775808"});
  EXPECT_EQ(read("18446744073709551616").events, Events{"f"});
  EXPECT_EQ(read("-9223372036854775809").events, Events{"f"});
  EXPECT_EQ(read("0").events, Events{"u:0"});
  EXPECT_EQ(read("-0").events, Events{"i:0"});
  EXPECT_EQ(read("1E2").events, Events{"f"});
}

TEST(FastJsonReader, AcceptsABomAndSurroundingWhiteSpace) {
  EXPECT_TRUE(read("\xEF\xBB\xBF{}").ok);
  EXPECT_TRUE(read(" \t\r\n[] \n").ok);
}

// Whatever it accepts nlohmann accepts, and the other way round; a refusal is a syntax error.
TEST(FastJsonReader, AcceptsWhatNlohmannAccepts) {
  // clang-format off
  const std::vector<std::string> docs = {
      "", " ", "{", "}", "[1,]", "[,1]", "{\"a\" 1}", "{\"a\":1,}", "{1:2}", "01", "-", "1.",
      "1e", "1e+", ".5", "+1", "1e400", "-1e400", "tru", "nul", "falsey", "\xEF\xBB",
      "\xEF\xBB\xBF", "/**/1", "[1]x", "[1] [2]", "\"a\x01\"", "\"\\x\"", "\"\\u12\"",
      "\"\\udc00\"", "\"\\ud800\"", "\"\\ud800\\u0041\"", "\"\xC0\x80\"", "\"\xED\xA0\x80\"",
      "\"\xF4\x90\x80\x80\"", "\"\xE2\x82\"", "\"unterminated", "'a'", "NaN", "[1e308]",
      "{\"a\":{\"b\":[{}, [], \"\", 0]}}", "\"\\ud83d\\ude00\"", "\"\xF0\x9F\x98\x80\"",
      "\"\\/\\b\\f\\n\\r\\t\\\\\""};
  // clang-format on
  for (const std::string& doc : docs) {
    SCOPED_TRACE(doc);
    const ReadResult r = read(doc);
    const bool nlohmann_accepts = nlohmann::json::accept(doc);
    EXPECT_EQ(r.ok, nlohmann_accepts);
    EXPECT_EQ(r.syntax_error, !nlohmann_accepts);
  }
}

// Plain runs are skipped sixteen bytes at a time, then eight, then byte by byte: a byte that
// ends one (an escape, the closing quote, a control character, UTF-8 valid or not) at every
// position of strings from 0 to 40 bytes reads as nlohmann reads it.
TEST(FastJsonReader, StringsEndTheirPlainRunsWhereverTheSpecialByteIs) {
  const std::vector<std::string> specials = {
      "\\\"",     "\\\\",         "\\u0041",          "\\n",  "\x01", "\x1f", "\x7f",
      "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xC3", "\xFF", "\""};
  for (size_t len = 0; len <= 40; ++len) {
    for (size_t at = 0; at <= len; ++at) {
      for (const std::string& special : specials) {
        std::string body(len, 'a');
        for (size_t i = 0; i < len; ++i) body[i] = static_cast<char>('a' + i % 26);
        body.insert(at, special);
        const std::string doc = "[\"" + body + "\", 1]";
        SCOPED_TRACE(doc);
        const ReadResult r = read(doc);
        const nlohmann::json j = nlohmann::json::parse(doc, nullptr, false);
        ASSERT_EQ(r.ok, !j.is_discarded());
        if (r.ok) {
          ASSERT_EQ(r.events, (Events{"[@0", "s:" + j[0].get<std::string>(), "u:1", "]"}));
        }
      }
    }
  }
}

TEST(FastJsonReader, StopsWhenTheHandlerSaysSoWithoutASyntaxError) {
  const ReadResult r = read(R"({"a": [1, 2, 3]})", 2);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.syntax_error);
  EXPECT_EQ(r.events, (Events{"{@0", "k:a", "[@6"}));
}

// The iterator nlohmann's lexer reads through publishes how far it has read.
TEST(CountingIterator, PublishesThePositionReadLast) {
  const std::string text = "abc";
  const char* read = nullptr;
  CountingIterator it(text.data(), &read);
  EXPECT_EQ(*it, 'a');
  ++it;
  EXPECT_EQ(read, text.data() + 1);
  it++;
  EXPECT_EQ(read, text.data() + 2);
  EXPECT_EQ(*it, 'c');
  EXPECT_TRUE(it == CountingIterator(text.data() + 2, &read));
  EXPECT_TRUE(it != CountingIterator(text.data() + 3, &read));
}

}  // namespace
}  // namespace t0w
