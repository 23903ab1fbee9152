#include "common/core/time.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace t0w
