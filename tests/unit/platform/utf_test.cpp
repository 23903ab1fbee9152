#include "agent/platform/windows/utf.h"

#include <gtest/gtest.h>

namespace t0w::win {
namespace {

TEST(UtfTest, RoundTripsAsciiAccentsAndAstralCharacters) {
  const std::string utf8 =
      "Security / S\xC3\xA9"
      "curit\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
  Result<std::wstring> wide = toWide(utf8);
  ASSERT_TRUE(wide.ok()) << wide.error().message;
  // é is one UTF-16 unit, € one, 😀 a surrogate pair.
  EXPECT_EQ(wide->size(), 24u);
  EXPECT_EQ((*wide)[12], L'\u00E9');
  EXPECT_EQ((*wide)[22], static_cast<wchar_t>(0xD83D));
  EXPECT_EQ((*wide)[23], static_cast<wchar_t>(0xDE00));
  EXPECT_EQ(toUtf8(*wide), utf8);
}

TEST(UtfTest, EmptyStaysEmpty) {
  Result<std::wstring> wide = toWide("");
  ASSERT_TRUE(wide.ok());
  EXPECT_TRUE(wide->empty());
  EXPECT_EQ(toUtf8(L""), "");
}

TEST(UtfTest, InvalidUtf8IsAnErrorNotAGuess) {
  for (const std::string& bad : {std::string("\xFF"), std::string("abc\xC3"),
                                 std::string("\xED\xA0\x80"),  // encoded surrogate
                                 std::string("\xC0\xAF")}) {   // overlong '/'
    Result<std::wstring> wide = toWide(bad);
    ASSERT_FALSE(wide.ok()) << "accepted " << ::testing::PrintToString(bad);
    EXPECT_EQ(wide.error().code, Errc::kInvalidArgument);
  }
}

TEST(UtfTest, UnpairedSurrogatesBecomeReplacementCharacters) {
  const wchar_t lone_high[] = {L'a', static_cast<wchar_t>(0xD800), L'b', 0};
  EXPECT_EQ(toUtf8(lone_high),
            "a\xEF\xBF\xBD"
            "b");
  const wchar_t lone_low[] = {static_cast<wchar_t>(0xDC00), 0};
  EXPECT_EQ(toUtf8(lone_low), "\xEF\xBF\xBD");
}

TEST(UtfTest, EmbeddedNulIsKept) {
  const std::string with_nul("a\0b", 3);
  Result<std::wstring> wide = toWide(with_nul);
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(wide->size(), 3u);
  EXPECT_EQ(toUtf8(*wide), with_nul);
}

}  // namespace
}  // namespace t0w::win
