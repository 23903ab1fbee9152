#include "common/zstd/zstd_codec.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tests/support/noise.h"

namespace t0w {
namespace {

// Both decoders give the same verdict: the one that keeps the output and the one that only
// counts it (what the queue uses to check a stored chunk).
Result<size_t> decodeBoth(std::string_view z, size_t max) {
  auto kept = zstdDecompress(z, max);
  auto counted = zstdDecodedSize(z, max);
  EXPECT_EQ(kept.ok(), counted.ok());
  if (!kept) {
    if (!counted) {
      EXPECT_EQ(kept.error().code, counted.error().code);
    }
    return kept.error();
  }
  if (counted) {
    EXPECT_EQ(*counted, kept->size());
  }
  return kept->size();
}

TEST(ZstdCodec, RoundTripsAndMarksFrames) {
  const std::string data = testing::noise(100000, 3) + std::string(100000, 'a');
  auto z = zstdCompress(data, 1);
  ASSERT_TRUE(z.ok()) << z.error().toString();
  EXPECT_TRUE(isZstdFrame(*z));
  EXPECT_FALSE(isZstdFrame("x\x9c"));
  auto back = zstdDecompress(*z, data.size());
  ASSERT_TRUE(back.ok()) << back.error().toString();
  EXPECT_EQ(*back, data);
  EXPECT_EQ(zstdDecodedSize(*z, data.size()).value(), data.size());  // past its scratch buffer
  auto empty = zstdCompress("", 1);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(zstdDecompress(*empty, 0).value(), "");
}

// Threads that compress and then end, as the agent's shipping threads do at a restart. With
// contexts held in thread_local objects, the Windows build crashed at such a thread's exit under
// Wine (mingw-w64's emulated TLS freed the storage before the destructor ran).
TEST(ZstdCodec, ThreadsThatUsedTheCodecEndCleanly) {
  const std::string data = testing::noise(20000, 7);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (size_t t = 0; t < ok.size(); ++t) {
      threads.emplace_back([&, t] {
        auto z = zstdCompress(data, 1);
        if (!z) return;
        auto back = zstdDecompress(*z, data.size());
        ok[t] = back && *back == data ? 1 : 0;
      });
    }
    for (auto& th : threads) th.join();
    for (int v : ok) EXPECT_EQ(v, 1) << "round " << round;
  }
}

TEST(ZstdCodec, ConcatenatedFramesDecodeToTheConcatenation) {
  std::string body;
  ASSERT_TRUE(zstdAppendFrame(body, "{\"records\":[", 1).ok());
  const std::string chunk = testing::noise(3000, 5);
  body += zstdCompress(chunk, 3).value();  // a frame made elsewhere, spliced as stored
  ASSERT_TRUE(zstdAppendFrame(body, ",", 1).ok());
  ASSERT_TRUE(zstdAppendFrame(body, "]}", 1).ok());
  EXPECT_EQ(zstdDecompress(body, 1 << 20).value(), "{\"records\":[" + chunk + ",]}");
}

TEST(ZstdCodec, StopsABombAtTheLimit) {
  const std::string zeros(64 << 20, '\0');
  auto bomb = zstdCompress(zeros, 19);
  ASSERT_TRUE(bomb.ok());
  EXPECT_LT(bomb->size(), 64u * 1024);
  auto out = decodeBoth(*bomb, 1 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::kLimit);
  auto small = zstdCompress(std::string(1000, 'z'), 3);
  EXPECT_TRUE(decodeBoth(*small, 1000).ok());
  auto over = decodeBoth(*small, 999);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::kLimit);
}

TEST(ZstdCodec, RejectsDamageTruncationAndTrailingGarbage) {
  auto z = zstdCompress(testing::noise(5000, 9), 1);
  ASSERT_TRUE(z.ok());
  for (size_t cut : {size_t{1}, size_t{3}, z->size() / 2}) {
    auto r = decodeBoth(z->substr(0, z->size() - cut), 1 << 20);
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.error().code, Errc::kCorrupt) << cut;
  }
  std::string flipped = *z;
  flipped[flipped.size() / 2] ^= 0x10;  // the content checksum catches what the format does not
  EXPECT_FALSE(decodeBoth(flipped, 1 << 20).ok());
  for (const std::string junk : {"junk", "ab"}) {
    auto r = decodeBoth(*z + junk, 1 << 20);
    ASSERT_FALSE(r.ok()) << junk;
    EXPECT_EQ(r.error().code, Errc::kCorrupt) << junk;
  }
  EXPECT_FALSE(decodeBoth("plain text", 1 << 20).ok());
  EXPECT_FALSE(decodeBoth("", 1 << 20).ok());
}

}  // namespace
}  // namespace t0w
