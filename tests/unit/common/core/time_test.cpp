#include "common/core/time.h"

#include <gtest/gtest.h>

#include <array>
#include <random>

namespace t0w {
namespace {

TEST(TimeTest, RoundTripsFullPrecision) {
  auto t = parseFiletime("2019-03-19T23:34:46.1234567Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(formatFiletime(*t), "2019-03-19T23:34:46.1234567Z");
}

TEST(TimeTest, UnixEpochIsKnownFiletime) {
  auto t = parseFiletime("1970-01-01T00:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, 116444736000000000LL);
  EXPECT_EQ(filetimeToUnixMicros(*t), 0);
  EXPECT_EQ(unixMicrosToFiletime(0), *t);
}

TEST(TimeTest, NineDigitFractionIsTruncatedToTicks) {
  auto t = parseFiletime("2021-05-01T10:00:00.123456789Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(formatFiletime(*t), "2021-05-01T10:00:00.1234567Z");
}

TEST(TimeTest, OffsetsAreApplied) {
  EXPECT_EQ(parseFiletime("2021-05-01T12:00:00+02:00"), parseFiletime("2021-05-01T10:00:00Z"));
}

TEST(TimeTest, RejectsMalformed) {
  for (const char* bad : {"", "2021", "2021-13-01T00:00:00Z", "2021-01-01T00:00:00.Z",
                          "2021-01-01T00:00:00Zjunk", "abcd-01-01T00:00:00Z"}) {
    EXPECT_FALSE(parseFiletime(bad).has_value()) << bad;
  }
}

TEST(FiletimeTest, FormatsEveryYearAsTheReferenceDoes) {
  // The direct writer against a reference built from the parsed parts, over 1601..9999 and the
  // edges of a day; and years outside (negative ticks) still format and parse back.
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> ticks(0, 2'650'467'743'999'999'999);
  for (int i = 0; i < 20000; ++i) {
    const int64_t t =
        i < 3 ? std::array<int64_t, 3>{0, 1, 2'650'467'743'999'999'999}[i] : ticks(rng);
    const std::string s = formatFiletime(t);
    ASSERT_EQ(s.size(), 28u) << t;
    EXPECT_EQ(parseFiletime(s), t) << s;
  }
  EXPECT_EQ(formatFiletime(0), "1601-01-01T00:00:00.0000000Z");
  EXPECT_EQ(formatFiletime(2'650'467'743'999'999'999), "9999-12-31T23:59:59.9999999Z");
  EXPECT_EQ(formatFiletime(-1), "1600-12-31T23:59:59.9999999Z");
}

}  // namespace
}  // namespace t0w
