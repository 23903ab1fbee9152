// The collector's side of the wire format: tier0watch.batch/3 (agent-local keys) and the
// Content-Encodings (identity, gzip, zstd as concatenated frames), with their limits.
#include "common/wire/batch_decoder.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "agent/core/event_json.h"
#include "common/zlib/zlib_codec.h"
#include "common/zstd/zstd_codec.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kEpoch = "00c0ffee00c0ffee";

// A v3 document as the agent writes it: the v2 envelope, keys without the agent id.
Json v3Doc(const std::string& agent_id = "agent-7f3a", int64_t seq = 9) {
  Json records = Json::array();
  records.push_back({{"kind", "alert"},
                     {"key", "alert|rule-1|Security|101"},
                     {"time", "2024-01-17T21:20:00.1234567Z"},
                     {"body", {{"rule_id", "rule-1"}, {"level", "high"}}}});
  records.push_back({{"kind", "event"},
                     {"key", "Security|101"},
                     {"body", {{"System", {{"Channel", "Security"}, {"EventRecordID", 101}}}}}});
  return Json{{"schema", "tier0watch.batch/3"},
              {"agent", {{"id", agent_id}, {"hostname", "DC01"}, {"version", "0.2.0"}}},
              {"queue_epoch", kEpoch},
              {"batch_id", agent_id + ":" + std::string(kEpoch) + ":" + std::to_string(seq)},
              {"sequence", seq},
              {"records", records}};
}

// The body as the agent sends it: the document cut in pieces, one zstd frame each.
std::string zstdFrames(std::string_view json, size_t pieces) {
  std::string out;
  const size_t step = json.size() / pieces + 1;
  for (size_t at = 0; at < json.size(); at += step) {
    EXPECT_TRUE(zstdAppendFrame(out, json.substr(at, step), 1).ok());
  }
  return out;
}

TEST(BatchDecoderV3, PrefixesTheAgentLocalKeys) {
  auto dec = parseBatchJson(v3Doc().dump());
  ASSERT_TRUE(dec.ok()) << dec.error().toString();
  EXPECT_EQ(dec->version, 3);
  EXPECT_EQ(dec->queue_epoch, kEpoch);
  EXPECT_EQ(dec->batch_id, "agent-7f3a:00c0ffee00c0ffee:9");
  ASSERT_EQ(dec->records.size(), 2u);
  EXPECT_EQ(dec->records[0].key, "agent-7f3a|alert|rule-1|Security|101");
  EXPECT_EQ(dec->records[1].key, "agent-7f3a|Security|101");
  EXPECT_EQ(dec->records[0].time.value_or(""), "2024-01-17T21:20:00.1234567Z");
  EXPECT_EQ(dec->records[1].body["System"]["EventRecordID"], 101);
}

// A v3 key is agent-local whatever it contains: one that names another agent stays in the
// sender's key space (the collector then files it under the authenticated agent).
TEST(BatchDecoderV3, AForeignAgentPrefixStaysUnderTheSender) {
  Json d = v3Doc();
  d["records"][1]["key"] = "agent-dc02|Security|101";
  auto dec = parseBatchJson(d.dump());
  ASSERT_TRUE(dec.ok()) << dec.error().toString();
  EXPECT_EQ(dec->records[1].key, "agent-7f3a|agent-dc02|Security|101");
}

TEST(BatchDecoderV3, RefusesWhatV3Requires) {
  auto expectBad = [](const Json& d, const std::string& reason) {
    auto r = parseBatchJson(d.dump());
    ASSERT_FALSE(r.ok()) << reason;
    EXPECT_EQ(r.error().code, Errc::kParse);
    EXPECT_NE(r.error().message.find(reason), std::string::npos) << r.error().message;
  };
  Json d = v3Doc();
  d["records"][0]["key"] = "";
  expectBad(d, "record 0: key must be a non-empty string");
  d = v3Doc();
  d["records"][1]["key"] = 5;
  expectBad(d, "record 1: key");
  d = v3Doc();
  d.erase("queue_epoch");
  expectBad(d, "queue_epoch");
  d = v3Doc();
  d["batch_id"] = "agent-7f3a:9";
  expectBad(d, "does not match");
  d = v3Doc();
  d["schema"] = "tier0watch.batch/4";
  expectBad(d, "schema");
  // The v2 rule still holds for v2: a key without the agent prefix is refused.
  d = v3Doc();
  d["schema"] = "tier0watch.batch/2";
  expectBad(d, "record 0: key must start with the agent id and '|'");
}

TEST(WireEncoding, Names) {
  EXPECT_EQ(wireEncodingByName("identity"), WireEncoding::kIdentity);
  EXPECT_EQ(wireEncodingByName("gzip"), WireEncoding::kGzip);
  EXPECT_EQ(wireEncodingByName("zstd"), WireEncoding::kZstd);
  EXPECT_FALSE(wireEncodingByName("br").has_value());
  EXPECT_FALSE(wireEncodingByName("").has_value());
}

TEST(WireEncoding, ZstdConcatenatedFramesAreOneDocument) {
  const std::string json = v3Doc().dump();
  for (size_t pieces : {1u, 2u, 7u}) {
    const std::string body = zstdFrames(json, pieces);
    auto dec = decodeBatch(body, WireEncoding::kZstd, 1 << 20);
    ASSERT_TRUE(dec.ok()) << pieces << ": " << dec.error().toString();
    EXPECT_EQ(dec->records.size(), 2u);
    EXPECT_EQ(dec->records[1].key, "agent-7f3a|Security|101");
  }
  // zstdCompress + zstdAppendFrame, the agent's way: a header frame, then a stored chunk.
  auto body = zstdCompress(json.substr(0, 10), 3);
  ASSERT_TRUE(body.ok());
  ASSERT_TRUE(zstdAppendFrame(*body, json.substr(10), 3).ok());
  EXPECT_TRUE(decodeBatch(*body, WireEncoding::kZstd, 1 << 20).ok());
}

TEST(WireEncoding, ZstdBombIsALimitDamageIsNot) {
  const std::string json = v3Doc().dump();
  const std::string body = zstdFrames(json, 3);
  auto bomb = decodeBatch(body, WireEncoding::kZstd, json.size() - 1);
  ASSERT_FALSE(bomb.ok());
  EXPECT_EQ(bomb.error().code, Errc::kLimit);
  EXPECT_EQ(bomb.error().message.find("JSON"), std::string::npos) << "not json_too_complex";
  EXPECT_TRUE(decodeBatch(body, WireEncoding::kZstd, json.size()).ok());

  // A frame of zeros that inflates a thousandfold.
  auto zeros = zstdCompress(std::string(8 << 20, '\0'), 1);
  ASSERT_TRUE(zeros.ok());
  ASSERT_LT(zeros->size(), 8u << 10);
  auto big = decodeWireBody(*zeros, WireEncoding::kZstd, 1 << 20);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, Errc::kLimit);

  std::string damaged = body;
  damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 0x5a);
  for (const std::string& bad :
       {damaged, body.substr(0, body.size() - 3), body.substr(0, body.size() / 2),
        std::string("not zstd at all"), std::string()}) {
    auto r = decodeBatch(bad, WireEncoding::kZstd, 1 << 20);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().code, Errc::kLimit) << r.error().toString();
  }
  // Trailing garbage after the last frame is damage too.
  auto trailing = decodeBatch(body + "xyz", WireEncoding::kZstd, 1 << 20);
  EXPECT_FALSE(trailing.ok());
}

// The agent's own v3 encodings (BatchEncoder::encodeV3, and encodeStoredV3 of stored fragments)
// decode to the same keys and bodies as v2.
TEST(WireEncoding, DecodesTheAgentsV3Encodings) {
  const BatchEncoder enc({"agent-7f3a", "DC01", "0.2.0"}, std::string(kEpoch));
  std::vector<QueueRecord> records(3);
  for (size_t i = 0; i < records.size(); ++i) {
    records[i].kind = i == 0 ? RecordKind::kAlert : RecordKind::kEvent;
    records[i].key = "Security|" + std::to_string(100 + i);
    records[i].time = 133500000001234567;
    records[i].body =
        R"({"System":{"Channel":"Security","EventRecordID":)" + std::to_string(100 + i) + "}}";
  }
  auto v3 = enc.encodeV3(5, records, 1);
  ASSERT_TRUE(v3.ok()) << v3.error().toString();
  auto dec = decodeBatch(v3->zstd, WireEncoding::kZstd, 1 << 20);
  ASSERT_TRUE(dec.ok()) << dec.error().toString();
  EXPECT_EQ(dec->version, 3);
  EXPECT_EQ(dec->batch_id, v3->batch_id);
  auto v2 = decodeBatch(enc.encode(5, records)->gzip, WireEncoding::kGzip, 1 << 20);
  ASSERT_TRUE(v2.ok());
  ASSERT_EQ(dec->records.size(), v2->records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(dec->records[i].key, v2->records[i].key);
    EXPECT_EQ(dec->records[i].key, "agent-7f3a|" + records[i].key);
    EXPECT_EQ(dec->records[i].kind, v2->records[i].kind);
    EXPECT_EQ(dec->records[i].time, v2->records[i].time);
    EXPECT_EQ(dec->records[i].body, v2->records[i].body);
  }
}

TEST(WireEncoding, GzipAndIdentityStillDecodeV2) {
  const BatchEncoder enc({"agent-7f3a", "DC01", "0.1.0"}, std::string(kEpoch));
  QueueRecord r;
  r.kind = RecordKind::kEvent;
  r.key = "Security|5";
  r.body = R"({"System":{"Channel":"Security","EventRecordID":5}})";
  auto batch = enc.encode(3, std::span<const QueueRecord>(&r, 1));
  ASSERT_TRUE(batch.ok());
  auto gz = decodeBatch(batch->gzip, WireEncoding::kGzip, 1 << 20);
  ASSERT_TRUE(gz.ok()) << gz.error().toString();
  EXPECT_EQ(gz->version, 2);
  EXPECT_EQ(gz->records[0].key, "agent-7f3a|Security|5");
  auto json = enc.toJson(3, std::span<const QueueRecord>(&r, 1));
  auto id = decodeBatch(*json, WireEncoding::kIdentity, 1 << 20);
  ASSERT_TRUE(id.ok()) << id.error().toString();
  EXPECT_EQ(id->records[0].key, "agent-7f3a|Security|5");
  auto bomb = decodeBatch(batch->gzip, WireEncoding::kGzip, batch->json_bytes - 1);
  ASSERT_FALSE(bomb.ok());
  EXPECT_EQ(bomb.error().code, Errc::kLimit);
  auto cut =
      decodeBatch(batch->gzip.substr(0, batch->gzip.size() / 2), WireEncoding::kGzip, 1 << 20);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().code, Errc::kLimit);
}

// schemas/wire-batch.v3.schema.json through python3-jsonschema (skipped without it): a v2
// document of a real event with its keys made agent-local is a valid v3 document.
TEST(BatchSchemaV3, AgentLocalKeysValidate) {
  const std::string python = T0W_PYTHON3;
  if (python.empty()) GTEST_SKIP() << "no python3";
  testing::TempDir dir;
  auto validate = [&](const Json& doc) {
    std::ofstream(dir.path() / "batch.json") << doc.dump();
    const std::string cmd = "\"" + python + "\" \"" + std::string(T0W_SOURCE_DIR) +
                            "/tests/unit/common/wire/batch_schema_check.py\" \"" +
                            std::string(T0W_SOURCE_DIR) + "/schemas\" \"" +
                            (dir.path() / "batch.json").string() + "\" 2>/dev/null";
    const int rc = std::system(cmd.c_str());
#ifdef _WIN32
    return rc;
#else
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
#endif
  };
  Event e;
  e.system.provider_name = "Microsoft-Windows-Security-Auditing";
  e.system.event_id = 4624;
  e.system.time_created = 133500000001234567;
  e.system.record_id = 101;
  e.system.channel = "Security";
  e.system.computer = "DC01";
  e.origin = {"Security", 101, {}};
  QueueRecord r;
  r.kind = RecordKind::kEvent;
  r.key = "Security|101";
  r.time = e.system.time_created;
  r.body = eventToJsonLine(e);
  auto json = BatchEncoder({"agent-7f3a", "DC01", "0.2.0"}, std::string(kEpoch))
                  .toJson(4, std::span<const QueueRecord>(&r, 1));
  ASSERT_TRUE(json.ok());
  Json doc = Json::parse(*json);
  doc["schema"] = "tier0watch.batch/3";
  doc["records"][0]["key"] = "Security|101";
  const int rc = validate(doc);
  if (rc == 2 || rc == -1) GTEST_SKIP() << "python3-jsonschema unavailable";
  EXPECT_EQ(rc, 0);
  ASSERT_TRUE(parseBatchJson(doc.dump()).ok());
  Json bad = doc;
  bad["records"][0]["key"] = "";
  EXPECT_EQ(validate(bad), 1) << "empty key";
  bad = doc;
  bad.erase("queue_epoch");
  EXPECT_EQ(validate(bad), 1) << "no epoch";
}

}  // namespace
}  // namespace t0w
