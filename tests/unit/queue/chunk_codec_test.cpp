#include "agent/queue/chunk_codec.h"

#include <gtest/gtest.h>

#include "common/zlib/zlib_codec.h"
#include "tests/support/queue_records.h"

namespace t0w {
namespace {

TEST(ChunkCodec, RoundTripsAllKindsAndOptionalTime) {
  std::vector<QueueRecord> records = testing::eventBatch("Security", 1, 3);
  records[1].time.reset();
  records.push_back(testing::alertRecord("r"));
  QueueRecord status;
  status.kind = RecordKind::kStatus;
  status.key = std::string(300, 'k');  // multi-byte varint length
  status.time = -5;
  status.body = "{\"s\":\"" + std::string(70000, 'x') + "\"}";
  records.push_back(status);
  auto enc = encodeChunk(records, 1);
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(enc->record_count, records.size());
  EXPECT_LT(enc->payload.size(), enc->raw_bytes);
  auto dec = decodeChunk(enc->payload, enc->raw_bytes);
  ASSERT_TRUE(dec.ok()) << dec.error().toString();
  EXPECT_EQ(*dec, records);
}

TEST(ChunkCodec, DamagedPayloadsAreErrorsNotCrashes) {
  auto enc = encodeChunk(testing::eventBatch("Security", 1, 20), 6);
  ASSERT_TRUE(enc.ok());
  // Truncations and bit flips at every position: never a crash, always an error or the data.
  for (size_t cut = 0; cut < enc->payload.size(); ++cut) {
    auto dec = decodeChunk(enc->payload.substr(0, cut), 1 << 20);
    EXPECT_FALSE(dec.ok()) << cut;
  }
  for (size_t i = 0; i < enc->payload.size(); ++i) {
    std::string bad = enc->payload;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    auto dec = decodeChunk(bad, 1 << 20);
    if (!dec.ok()) {
      EXPECT_NE(dec.error().code, Errc::kInternal) << i;
    }
  }
  // A well-compressed stream whose frames are malformed.
  auto z = zCompress(std::string{'\x01', '\x00', '\x05', 'a', 'b'}, ZFormat::kZlib, 6);
  auto dec = decodeChunk(*z, 100);
  ASSERT_FALSE(dec.ok());
  EXPECT_EQ(dec.error().code, Errc::kCorrupt);
  EXPECT_NE(dec.error().message.find("byte 1"), std::string::npos) << dec.error().message;
}

TEST(ChunkCodec, ValidateRecordChecksKeyAndBodyShape) {
  QueueRecord r = testing::eventRecord("S", 1);
  EXPECT_TRUE(validateRecord(r).ok());
  r.body = "{\"a\":1}\n{\"b\":2}";
  EXPECT_FALSE(validateRecord(r).ok());
  r.body = "[1]";
  EXPECT_FALSE(validateRecord(r).ok());
  r.body = "{}";
  r.key.clear();
  EXPECT_FALSE(validateRecord(r).ok());
}

}  // namespace
}  // namespace t0w
