#include "common/text/json_string.h"

#include <gtest/gtest.h>

#include <string>

namespace t0w {
namespace {

bool plainByte(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

// Every byte value at every position of every length up to 40: through the byte loop (under
// four), the two overlapping 4-byte words, and the 8-byte words with their overlapping last one.
// The answer must also be what appendJsonString does: write the string as it is.
TEST(JsonString, VerbatimSeesEveryByteAtEveryPosition) {
  for (size_t n = 1; n <= 40; ++n) {
    for (size_t at = 0; at < n; ++at) {
      for (int c = 0; c < 256; ++c) {
        std::string s(n, 'a');
        s[at] = static_cast<char>(c);
        const bool plain = plainByte(static_cast<unsigned char>(c));
        ASSERT_EQ(isVerbatimJsonString(s), plain)
            << "length " << n << " byte " << c << " at " << at;
        std::string json;
        appendJsonString(json, s);
        ASSERT_EQ(json == "\"" + s + "\"", plain)
            << "length " << n << " byte " << c << " at " << at;
      }
    }
  }
  EXPECT_TRUE(isVerbatimJsonString(""));
}

// A special byte followed by plain ones: the borrow of the zero-byte test must not hide it, and
// a plain string after a special one in the same word must not be marked.
TEST(JsonString, VerbatimAroundSpecialBytesInOneWord) {
  EXPECT_FALSE(isVerbatimJsonString("\x01\x21\x21\x21\x21\x21\x21\x21"));
  EXPECT_FALSE(isVerbatimJsonString("!!!!!!!\x1F"));
  EXPECT_FALSE(isVerbatimJsonString("a\"b\\c\x7F\x80"));
  EXPECT_TRUE(isVerbatimJsonString("!#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}~\x7F"));
  EXPECT_TRUE(isVerbatimJsonString("S-1-5-21-3623811015-3361044348-30300820-1013"));
}

}  // namespace
}  // namespace t0w
