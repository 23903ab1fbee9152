#include "common/text/ascii.h"

#include <gtest/gtest.h>

namespace t0w {
namespace {

TEST(Ascii, LowerFoldsOnlyAsciiLetters) {
  EXPECT_EQ(lowerAscii("HTTPS://Example.COM:443"), "https://example.com:443");
  EXPECT_EQ(lowerAscii(""), "");
  // UTF-8 bytes stay as they are: no locale, no multi-byte folding.
  EXPECT_EQ(lowerAscii("\xC3\x84Z@[`{"), "\xC3\x84z@[`{");
}

TEST(Ascii, FoldAsciiLeavesNonLetters) {
  EXPECT_EQ(foldAscii('A'), 'a');
  EXPECT_EQ(foldAscii('Z'), 'z');
  EXPECT_EQ(foldAscii('a'), 'a');
  EXPECT_EQ(foldAscii('@'), '@');
  EXPECT_EQ(foldAscii('['), '[');
  EXPECT_EQ(foldAscii('\xC4'), '\xC4');
}

TEST(Ascii, EqualsIgnoreCase) {
  EXPECT_TRUE(equalsIgnoreCaseAscii("Content-Encoding", "content-encoding"));
  EXPECT_TRUE(equalsIgnoreCaseAscii("", ""));
  EXPECT_FALSE(equalsIgnoreCaseAscii("gzip", "gzip "));
  EXPECT_FALSE(equalsIgnoreCaseAscii("and", "an"));
  EXPECT_FALSE(equalsIgnoreCaseAscii("@", "`"));  // 0x40 and 0x60 differ by the case bit only
}

}  // namespace
}  // namespace t0w
