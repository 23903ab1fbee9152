#include "common/text/utf8.h"

#include <gtest/gtest.h>

#include <random>

#include "common/text/json_string.h"

namespace t0w {
namespace {

std::string valid(std::string_view s) {
  std::string out;
  appendValidUtf8(out, s);
  return out;
}

TEST(Utf8, ValidTextIsKeptAsItIs) {
  for (const std::string s : {"", "Security", "\xC3\xA9t\xC3\xA9", "\xE2\x82\xAC",
                              "\xF0\x9F\x94\x91", "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(isValidUtf8(s)) << s;
    EXPECT_EQ(valid(s), s);
    std::string out;
    EXPECT_FALSE(appendValidUtf8(out, s));
  }
}

TEST(Utf8, EachBrokenSequenceBecomesOneReplacement) {
  const std::string r(kUtf8Replacement);
  EXPECT_EQ(valid("a\x81z"), "a" + r + "z");            // a continuation byte alone
  EXPECT_EQ(valid("a\xC3"), "a" + r);                   // cut at the end
  EXPECT_EQ(valid("\xE2\x82z"), r + "z");               // cut in the middle: one for both bytes
  EXPECT_EQ(valid("\xC0\xAF"), r + r);                  // overlong: C0 never starts a sequence
  EXPECT_EQ(valid("\xED\xA0\x80"), r + r + r);          // a surrogate
  EXPECT_EQ(valid("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(valid("\xE2\xC3\xA9"), r + "\xC3\xA9");     // the byte that broke it is read again
  for (const std::string s : {"a\x81z", "a\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xFF"}) {
    EXPECT_FALSE(isValidUtf8(s)) << s;
    std::string out;
    EXPECT_TRUE(appendValidUtf8(out, s));
  }
}

// The key and the JSON writer replace alike, so a key and the same text in a body read the same.
TEST(Utf8, ReplacesAsTheJsonWriterDoes) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) {
      // Bytes a JSON string writes without escaping: letters and everything from 0x80 up.
      const unsigned v = rng() % 2 ? 'a' + rng() % 26 : 0x80 + rng() % 0x80;
      c = static_cast<char>(v);
    }
    std::string json;
    appendJsonString(json, s);
    const std::string v = valid(s);
    EXPECT_EQ(json, "\"" + v + "\"");
    EXPECT_TRUE(isValidUtf8(v));
    EXPECT_EQ(isValidUtf8(s), v == s);
  }
}

// The word-at-a-time scans against the byte-at-a-time rule: every length up to 40 (the word
// loop, its overlapping last word, the 4-byte and the byte paths) with one byte of 0x80 or
// more at every position.
TEST(Utf8, AsciiAndPrefixScansSeeEveryPosition) {
  for (size_t n = 0; n <= 40; ++n) {
    const std::string plain(n, 'x');
    EXPECT_TRUE(isAscii(plain));
    EXPECT_EQ(validUtf8Prefix(plain), n);
    for (size_t at = 0; at < n; ++at) {
      std::string bad = plain;
      bad[at] = '\x81';
      EXPECT_FALSE(isAscii(bad)) << n << " " << at;
      EXPECT_EQ(validUtf8Prefix(bad), at) << n << " " << at;
      std::string good = plain;
      good.replace(at, 1, "\xC3\xA9");
      EXPECT_FALSE(isAscii(good));
      EXPECT_EQ(validUtf8Prefix(good), good.size()) << n << " " << at;
    }
  }
}

}  // namespace
}  // namespace t0w
