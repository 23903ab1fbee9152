#include "common/zlib/zlib_codec.h"

#include <gtest/gtest.h>

#include "tests/support/noise.h"

namespace t0w {
namespace {

TEST(ZlibCodec, RoundTripsBothFormats) {
  const std::string data = testing::noise(100000, 3) + std::string(100000, 'a');
  for (ZFormat f : {ZFormat::kZlib, ZFormat::kGzip}) {
    auto z = zCompress(data, f, 6);
    ASSERT_TRUE(z.ok());
    auto back = zDecompress(*z, f, data.size());
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_EQ(*back, data);
  }
  auto empty = zCompress("", ZFormat::kGzip, 6);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(zDecompress(*empty, ZFormat::kGzip, 0).value(), "");
}

TEST(ZlibCodec, GzipHasTheGzipMagic) {
  auto z = zCompress("hello", ZFormat::kGzip, 6);
  ASSERT_GE(z->size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>((*z)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*z)[1]), 0x8b);
}

TEST(ZlibCodec, StopsAZipBombAtTheLimit) {
  const std::string zeros(64 << 20, '\0');
  auto bomb = zCompress(zeros, ZFormat::kGzip, 9);
  ASSERT_TRUE(bomb.ok());
  EXPECT_LT(bomb->size(), 128u * 1024);
  auto out = zDecompress(*bomb, ZFormat::kGzip, 1 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::kLimit);
  // Exactly at the limit is fine.
  auto small = zCompress(std::string(1000, 'z'), ZFormat::kGzip, 9);
  EXPECT_TRUE(zDecompress(*small, ZFormat::kGzip, 1000).ok());
  EXPECT_FALSE(zDecompress(*small, ZFormat::kGzip, 999).ok());
}

TEST(ZlibCodec, RejectsTruncationTrailingGarbageAndWrongFormat) {
  auto z = zCompress(testing::noise(5000, 9), ZFormat::kGzip, 6);
  auto cut = zDecompress(z->substr(0, z->size() - 3), ZFormat::kGzip, 1 << 20);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, Errc::kCorrupt);
  auto trailing = zDecompress(*z + "junk", ZFormat::kGzip, 1 << 20);
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.error().code, Errc::kCorrupt);
  EXPECT_FALSE(zDecompress(*z, ZFormat::kZlib, 1 << 20).ok());
  EXPECT_FALSE(zDecompress("plain text", ZFormat::kGzip, 1 << 20).ok());
}

}  // namespace
}  // namespace t0w
