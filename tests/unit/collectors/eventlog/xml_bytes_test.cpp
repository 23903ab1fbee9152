#include "collectors/eventlog/xml_bytes.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace t0w::xml_bytes {
namespace {

// What the searches must find, one byte at a time.
const char* expectedMarkup(const char* p, const char* end, char stop) {
  while (p != end && !isMarkupByte(*p, stop)) ++p;
  return p;
}

const char* expectedNameEnd(const char* p, const char* end, bool& colon) {
  colon = false;
  for (; p != end; ++p) {
    const char c = *p;
    const bool name = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == ':' || c == '-' || c == '.';
    if (!name) break;
    colon = colon || c == ':';
  }
  return p;
}

TEST(XmlBytes, NameBytesAreAsciiLettersDigitsAndFourMarks) {
  std::string names;
  for (int c = 0; c < 256; ++c) {
    if (isNameByte(static_cast<char>(c))) names.push_back(static_cast<char>(c));
  }
  EXPECT_EQ(names, "-.0123456789:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");
}

TEST(XmlBytes, MarkupIsTheStopAmpersandLessThanAndControlBytesBelowShiftOut) {
  std::string marks;
  for (int c = 0; c < 256; ++c) {
    if (isMarkupByte(static_cast<char>(c), '"')) marks.push_back(static_cast<char>(c));
  }
  std::string expected;
  for (char c = 0; c < 0x0E; ++c) expected.push_back(c);
  expected += "\"&<";
  EXPECT_EQ(marks, expected);
}

// Every version against the byte loop, at every position of each byte of interest in inputs of
// 0 to 40 bytes (the 16-byte and 8-byte steps and the tails around them).
TEST(XmlBytes, SearchesFindTheFirstByteOfInterestWhereverItIs) {
  const std::string fills[] = {"TargetUserName", "a.b-c_d:e9", "x y\xc3\xa9z/=>"};
  const char probes[] = {'"', '\'', '&', '<', '\t',   '\n',   '\r', '\0', '\x0d', '\x0e',
                         ' ', '>',  ':', '/', '\x80', '\xff', '@',  '[',  '`',    '{'};
  for (const std::string& fill : fills) {
    for (size_t len = 0; len <= 40; ++len) {
      std::string base;
      while (base.size() < len) base += fill;
      base.resize(len);
      for (size_t at = 0; at <= len; ++at) {
        for (char probe : probes) {
          std::string s = base;
          if (at < len) s[at] = probe;
          const char* b = s.data();
          const char* e = b + s.size();
          for (char stop : {'"', '\'', '<'}) {
            const char* want = expectedMarkup(b, e, stop);
            ASSERT_EQ(findMarkupWords(b, e, stop), want) << len << " " << at << " " << int(probe);
            ASSERT_EQ(findMarkup(b, e, stop), want) << len << " " << at << " " << int(probe);
          }
          bool want_colon = false;
          const char* want = expectedNameEnd(b, e, want_colon);
          bool colon = !want_colon;
          ASSERT_EQ(nameEndBytes(b, e, colon), want) << len << " " << at << " " << int(probe);
          ASSERT_EQ(colon, want_colon);
          colon = !want_colon;
          ASSERT_EQ(nameEnd(b, e, colon), want) << len << " " << at << " " << int(probe);
          ASSERT_EQ(colon, want_colon) << len << " " << at << " " << int(probe);
        }
      }
    }
  }
}

TEST(XmlBytes, SearchesAgreeWithTheByteLoopOnRandomBytes) {
  std::mt19937 rng(7);
  const std::string alphabet = "abcXYZ019:_-.\"'&<>= \t\n\r/\x80\xc3\xa9";
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 70, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    const char* b = s.data();
    const char* e = b + s.size();
    ASSERT_EQ(findMarkup(b, e, '"'), expectedMarkup(b, e, '"')) << s;
    bool colon = false;
    bool want_colon = false;
    ASSERT_EQ(nameEnd(b, e, colon), expectedNameEnd(b, e, want_colon)) << s;
    ASSERT_EQ(colon, want_colon) << s;
  }
}

}  // namespace
}  // namespace t0w::xml_bytes
