#include "agent/queue/chunk_codec.h"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "common/core/time.h"
#include "common/wire/wire_fragment.h"
#include "common/zlib/zlib_codec.h"
#include "common/zstd/zstd_codec.h"
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
  status.time = 0;
  // Strings that need escaping, braces inside strings, nested arrays: bodies come back verbatim.
  status.body = "{\"s\":\"" + std::string(70000, 'x') +
                "\",\"t\":\"}{\\\"]\",\"a\":[{\"b\":[1,{}]}],\"u\":\"\\u00e9\"}";
  records.push_back(status);
  records.back().key = "C:\\Trace\\\"x\"|\x01|" + std::string(300, 'k');
  auto enc = encodeChunk(records, 1);
  ASSERT_TRUE(enc.ok());
  EXPECT_TRUE(isWireChunk(enc->payload));
  EXPECT_EQ(enc->record_count, records.size());
  EXPECT_LT(enc->payload.size(), enc->raw_bytes);
  EXPECT_TRUE(verifyWireChunk(enc->payload, enc->raw_bytes).ok());
  auto dec = decodeChunk(enc->payload, enc->raw_bytes);
  ASSERT_TRUE(dec.ok()) << dec.error().toString();
  EXPECT_EQ(*dec, records);
}

TEST(ChunkCodec, IsTheWireEncodingOfItsRecords) {
  const auto records = testing::eventBatch("Security", 7, 3);
  auto enc = encodeChunk(records, 1);
  ASSERT_TRUE(enc.ok());
  auto fragment = zstdDecompress(enc->payload, enc->raw_bytes);
  ASSERT_TRUE(fragment.ok());
  EXPECT_EQ(*fragment, encodeWireFragment(records));
  const auto doc = nlohmann::json::parse("[" + *fragment + "]");
  ASSERT_EQ(doc.size(), 3u);
  EXPECT_EQ(doc[0]["kind"], "event");
  EXPECT_EQ(doc[0]["key"], records[0].key);  // agent-local: the collector adds the agent id
  EXPECT_EQ(doc[0]["body"], nlohmann::json::parse(records[0].body));
  EXPECT_EQ(doc[0]["len"], records[0].body.size());
}

// A record's head goes through a buffer on the stack for keys of up to 256 bytes with nothing to
// escape, else through the escaping appends: both give the same JSON, for every kind, with and
// without a time, on both sides of that size.
TEST(ChunkCodec, RecordHeadsAreTheSameJsonForEveryKeySize) {
  for (const RecordKind kind : {RecordKind::kEvent, RecordKind::kAlert, RecordKind::kStatus}) {
    for (const size_t n : {0, 1, 255, 256, 257, 400}) {
      for (const bool escaped : {false, true}) {
        for (const bool timed : {false, true}) {
          QueueRecord r;
          r.kind = kind;
          r.key = std::string(n, 'k');
          if (escaped && n > 0) r.key[n / 2] = '"';
          if (timed) r.time = 133600000000000000;
          r.body = "{\"a\":1}";
          std::string out = "x";
          appendWireRecord(out, r);
          ASSERT_EQ(out.substr(0, 1), "x");
          const auto j = nlohmann::json::parse(out.substr(1));
          EXPECT_EQ(j["kind"], recordKindName(kind));
          EXPECT_EQ(j["key"], r.key);
          EXPECT_EQ(j.contains("time"), timed);
          if (timed) {
            EXPECT_EQ(j["time"], formatFiletime(*r.time));
          }
          EXPECT_EQ(j["len"], r.body.size());
          EXPECT_EQ(j["body"], nlohmann::json::parse(r.body));
          auto back = decodeWireFragment(out.substr(1));
          ASSERT_TRUE(back.ok()) << back.error().toString();
          ASSERT_EQ(back->size(), 1u);
          EXPECT_EQ((*back)[0], r);
        }
      }
    }
  }
}

TEST(ChunkCodec, BodiesThatAreNotBalancedJsonStillReadBack) {
  // The queue checks a body's shape only ({...} on one line); the reader must not depend on more.
  std::vector<QueueRecord> records = testing::eventBatch("Security", 1, 4);
  records[0].body = "{}}";
  records[1].body = "{\"a\":\"\\\"}";  // {"a":"\"} : the string never closes
  records[2].body = "{\"k\":\"},{\\\"kind\\\":\\\"event\\\"\"}";
  auto enc = encodeChunk(records, 1);
  ASSERT_TRUE(enc.ok());
  auto dec = decodeChunk(enc->payload, enc->raw_bytes);
  ASSERT_TRUE(dec.ok()) << dec.error().toString();
  EXPECT_EQ(*dec, records);
}

TEST(ChunkCodec, ATimeBeyondIso8601IsLeftOut) {
  std::vector<QueueRecord> records = testing::eventBatch("Security", 1, 2);
  records[0].time = -5;
  records[1].time = std::numeric_limits<int64_t>::max();
  auto enc = encodeChunk(records, 1);
  ASSERT_TRUE(enc.ok());
  auto dec = decodeChunk(enc->payload, enc->raw_bytes);
  ASSERT_TRUE(dec.ok()) << dec.error().toString();
  EXPECT_FALSE((*dec)[0].time);
  EXPECT_FALSE((*dec)[1].time);
}

TEST(ChunkCodec, ReadsChunksOfTheOldFormat) {
  std::vector<QueueRecord> records = testing::eventBatch("Security", 1, 3);
  records[1].time = -5;  // the old format kept any time
  auto enc = encodeChunkV1(records, 6);
  ASSERT_TRUE(enc.ok());
  EXPECT_FALSE(isWireChunk(enc->payload));
  auto dec = decodeChunk(enc->payload, enc->raw_bytes);
  ASSERT_TRUE(dec.ok()) << dec.error().toString();
  EXPECT_EQ(*dec, records);
}

// Truncations and bit flips at every position: never a crash, always an error or the data.
void damage(const EncodedChunk& chunk) {
  const EncodedChunk* enc = &chunk;
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
}

TEST(ChunkCodec, DamagedPayloadsAreErrorsNotCrashes) {
  for (bool v1 : {false, true}) {
    SCOPED_TRACE(v1 ? "old format" : "wire format");
    const auto records = testing::eventBatch("Security", 1, 20);
    auto enc = v1 ? encodeChunkV1(records, 6) : encodeChunk(records, 1);
    ASSERT_TRUE(enc.ok());
    damage(*enc);
  }
  // A well-compressed stream whose frames are malformed.
  auto z = zCompress(std::string{'\x01', '\x00', '\x05', 'a', 'b'}, ZFormat::kZlib, 6);
  auto dec = decodeChunk(*z, 100);
  ASSERT_FALSE(dec.ok());
  EXPECT_EQ(dec.error().code, Errc::kCorrupt);
  EXPECT_NE(dec.error().message.find("byte 1"), std::string::npos) << dec.error().message;
  // A sound zstd frame whose text is not a fragment of records.
  for (const std::string text :
       {"{\"kind\":\"nope\"}", "{\"kind\":\"event\",\"key\":\"k\",\"body\":{",
        "{\"kind\":\"event\",\"key\":\"k\",\"body\":{}}x"}) {
    auto bad = decodeChunk(zstdCompress(text, 1).value(), 100);
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_EQ(bad.error().code, Errc::kCorrupt);
    EXPECT_NE(bad.error().message.find("at byte"), std::string::npos) << bad.error().message;
  }
}

TEST(ChunkCodec, VerifyFindsEveryFlipThatChangesTheRecords) {
  const auto records = testing::eventBatch("Security", 1, 20);
  auto enc = encodeChunk(records, 1);
  ASSERT_TRUE(enc.ok());
  size_t found = 0;
  for (size_t i = 0; i < enc->payload.size(); ++i) {
    std::string bad = enc->payload;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    if (!verifyWireChunk(bad, enc->raw_bytes).ok()) {
      ++found;
      continue;
    }
    // What verify lets through (a header bit that changes nothing) decodes to the same records.
    auto dec = decodeChunk(bad, enc->raw_bytes);
    ASSERT_TRUE(dec.ok()) << i;
    EXPECT_EQ(*dec, records) << i;
  }
  EXPECT_GT(found, enc->payload.size() * 9 / 10);
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

// The wire writes keys as JSON strings, where a byte that is not UTF-8 becomes U+FFFD: such a
// key would not come back as it went in, so the queue refuses it (the agent makes keys valid
// where it builds them). Found by fuzz_queue_chunk in an old-format chunk.
TEST(ChunkCodec, AKeyThatIsNotUtf8IsRefusedAndNamed) {
  QueueRecord r = testing::eventRecord("Securit\x81", 1);
  r.key = "Securit4x\x81|1";
  const Status s = validateRecord(r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("Securit4x\xEF\xBF\xBD|1: key is not UTF-8"), std::string::npos)
      << s.error().message;
  r.key = "Security|\xC3\xA9|1";  // é: valid
  EXPECT_TRUE(validateRecord(r).ok());

  // An old chunk may hold such a key: it decodes, and is not taken into a new chunk.
  r.key = "Securit4x\x81|1";
  const std::vector<QueueRecord> records{r};
  auto old = encodeChunkV1(records, 6);
  ASSERT_TRUE(old.ok());
  auto dec = decodeChunk(old->payload, old->raw_bytes);
  ASSERT_TRUE(dec.ok()) << dec.error().toString();
  EXPECT_EQ(dec->at(0).key, r.key);
  EXPECT_FALSE(validateRecord(dec->at(0)).ok());
}

}  // namespace
}  // namespace t0w
