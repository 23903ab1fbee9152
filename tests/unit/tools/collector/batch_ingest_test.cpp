// BatchIngest (POST /api/v1/batches) on a real SQLite storage, without the network: the wire
// versions and Content-Encodings it accepts, what it answers for damaged or oversized bodies,
// and that records are filed under the authenticated agent whatever their keys say.
#include "tools/collector/batch_ingest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/wire/batch_encoder.h"
#include "common/wire/wire_protocol.h"
#include "common/zlib/zlib_codec.h"
#include "common/zstd/zstd_codec.h"
#include "tools/collector/content_hash.h"
#include "tools/collector/security.h"

namespace t0w::collector {
namespace {

constexpr std::string_view kEpoch = "00c0ffee00c0ffee";
constexpr int64_t kNow = 1'700'000'000'000'000;

Json eventBody(int64_t record_id) {
  return Json{{"System",
               {{"EventID", 4624},
                {"Channel", "Security"},
                {"Computer", "DC01"},
                {"EventRecordID", record_id}}},
              {"EventData", {{"TargetUserName", "alice"}}}};
}

// A v3 document: the v2 envelope with agent-local keys.
Json v3Doc(int64_t seq, Json records, const std::string& agent_id = "agent-1") {
  return Json{{"schema", "tier0watch.batch/3"},
              {"agent", {{"id", agent_id}, {"hostname", "DC01"}, {"version", "0.2.0"}}},
              {"queue_epoch", kEpoch},
              {"batch_id", agent_id + ":" + std::string(kEpoch) + ":" + std::to_string(seq)},
              {"sequence", seq},
              {"records", std::move(records)}};
}

Json eventRecord(const std::string& key, int64_t record_id) {
  return Json{{"kind", "event"},
              {"key", key},
              {"time", "2024-01-17T21:20:00.1234567Z"},
              {"body", eventBody(record_id)}};
}

// Concatenated zstd frames, as the agent sends stored chunks.
std::string zstdFrames(std::string_view json, size_t pieces) {
  std::string out;
  const size_t step = json.size() / pieces + 1;
  for (size_t at = 0; at < json.size(); at += step) {
    EXPECT_TRUE(zstdAppendFrame(out, json.substr(at, step), 1).ok());
  }
  return out;
}

class BatchIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/t0w-batch-ingest-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = openStorage("sqlite", dir_ + "/collector.db", StorageOptions{false});
    ASSERT_TRUE(s) << s.error().toString();
    storage_ = std::move(*s);
    auto token = newToken();
    ASSERT_TRUE(token);
    token_ = *token;
    ASSERT_TRUE(storage_->enrollAgent("dc01", sha256Hex(token_), kNow));
    config_.max_decompressed_bytes = 1 << 20;
    ingest_ = std::make_unique<BatchIngest>(config_, *storage_, metrics_,
                                            std::vector<std::string>{}, [] { return kNow; });
  }
  void TearDown() override {
    ingest_.reset();
    storage_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Response post(std::string body, const std::string& encoding) {
    Request req{http::verb::post, "/api/v1/batches", 11};
    req.set(http::field::authorization, "Bearer " + token_);
    req.set(http::field::content_type, "application/json");
    if (!encoding.empty()) req.set(http::field::content_encoding, encoding);
    req.body() = std::move(body);
    req.prepare_payload();
    return ingest_->handle(req);
  }
  static Json json(const Response& r) { return Json::parse(r.body(), nullptr, false); }

  std::string dir_;
  std::string token_;
  CollectorConfig config_;
  Metrics metrics_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<BatchIngest> ingest_;
};

TEST_F(BatchIngestTest, AnnouncesVersion3) { EXPECT_EQ(kCollectorHeaderValue, "3"); }

TEST_F(BatchIngestTest, StoresV3SentAsConcatenatedZstdFrames) {
  Json records = Json::array({eventRecord("Security|1", 1), eventRecord("Security|2", 2)});
  const std::string doc = v3Doc(1, records).dump();
  Response r = post(zstdFrames(doc, 3), "zstd");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(json(r)["stored"], 2);
  auto e = storage_->eventByKey("agent-1|Security|2");
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ((*e)->record_id, 2);
  EXPECT_EQ((*e)->channel, "Security");
  EXPECT_EQ((*e)->host, "dc01");
  EXPECT_EQ(Json::parse((*e)->body), eventBody(2));
  // The same batch again (a retry): a duplicate, nothing written twice.
  r = post(zstdFrames(doc, 1), "ZSTD");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(json(r)["status"], "duplicate");
}

// No forging: a v3 key that names another agent is filed under the authenticated one.
TEST_F(BatchIngestTest, AV3KeyNamingAnotherAgentStaysUnderTheAuthenticatedAgent) {
  Json records = Json::array({eventRecord("agent-2|Security|7", 7)});
  Response r = post(zstdFrames(v3Doc(1, records).dump(), 1), "zstd");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  auto forged = storage_->eventByKey("agent-2|Security|7");
  ASSERT_TRUE(forged);
  EXPECT_FALSE(forged->has_value());
  auto filed = storage_->eventByKey("agent-1|agent-2|Security|7");
  ASSERT_TRUE(filed);
  EXPECT_TRUE(filed->has_value());
  // And a batch claiming another agent id than the credential's is refused.
  r = post(zstdFrames(v3Doc(2, Json::array(), "agent-2").dump(), 1), "zstd");
  EXPECT_EQ(r.result_int(), 403) << r.body();
}

TEST_F(BatchIngestTest, AZstdBombIs413) {
  Json records = Json::array();
  records.push_back(eventRecord("Security|1", 1));
  records[0]["body"]["EventData"]["Padding"] = std::string(2 << 20, 'A');
  Response r = post(zstdFrames(v3Doc(1, records).dump(), 1), "zstd");
  EXPECT_EQ(r.result_int(), 413) << r.body();
  EXPECT_EQ(json(r)["error"], "decompressed_too_large");
  EXPECT_EQ(r.find(std::string(kRefusalHeader)), r.end());
}

TEST_F(BatchIngestTest, DamagedOrTruncatedZstdIs400WithTheRefusalHeader) {
  Json records = Json::array({eventRecord("Security|1", 1)});
  const std::string body = zstdFrames(v3Doc(1, records).dump(), 2);
  std::string damaged = body;
  damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 0x5a);
  for (const std::string& bad : {damaged, body.substr(0, body.size() - 5), std::string("{}")}) {
    Response r = post(bad, "zstd");
    EXPECT_EQ(r.result_int(), 400) << r.body();
    EXPECT_EQ(json(r)["error"], "malformed_batch");
    auto h = r.find(std::string(kRefusalHeader));
    ASSERT_NE(h, r.end());
    EXPECT_EQ(sv(h->value()), kRefusalBatch);
  }
  Response r = post(body, "br");
  EXPECT_EQ(r.result_int(), 415) << r.body();
}

TEST_F(BatchIngestTest, V2GzipAndIdentityStillWork) {
  const BatchEncoder enc({"agent-1", "DC01", "0.1.0"}, std::string(kEpoch));
  QueueRecord q;
  q.kind = RecordKind::kEvent;
  q.key = "Security|11";
  q.body = eventBody(11).dump();
  auto batch = enc.encode(11, std::span<const QueueRecord>(&q, 1));
  ASSERT_TRUE(batch);
  Response r = post(batch->gzip, "gzip");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(json(r)["stored"], 1);
  q.key = "Security|12";
  q.body = eventBody(12).dump();
  r = post(*enc.toJson(12, std::span<const QueueRecord>(&q, 1)), "");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(json(r)["stored"], 1);
  auto e = storage_->eventByKey("agent-1|Security|12");
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ((*e)->record_id, 12);
  // v1 (no epoch) too.
  q.key = "Security|13";
  auto v1 =
      BatchEncoder({"agent-1", "DC01", "0.1.0"}).encode(13, std::span<const QueueRecord>(&q, 1));
  r = post(v1->gzip, "gzip");
  EXPECT_EQ(r.result_int(), 200) << r.body();
}

// Bodies are stored as the agent sent them, byte for byte (one-pass decode, no re-dump).
TEST_F(BatchIngestTest, StoresBodiesAsSent) {
  const std::string body =
      R"({"System":{"EventRecordID":3,"Channel":"Security","EventID":4624},"EventData":)"
      R"({"Path":"C:\\Windows\\x.exe","Name":"é","n":1.50}})";
  const std::string doc =
      R"({"schema":"tier0watch.batch/3","agent":{"id":"agent-1","hostname":"DC01","version":"1"},)"
      R"("queue_epoch":"00c0ffee00c0ffee","batch_id":"agent-1:00c0ffee00c0ffee:1","sequence":1,)"
      R"("records":[{"kind":"event","key":"Security|3","body":)" +
      body + "}]}";
  Response r = post(zstdFrames(doc, 2), "zstd");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  auto e = storage_->eventByKey("agent-1|Security|3");
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ((*e)->body, body);
  EXPECT_EQ((*e)->event_id, 4624);
  EXPECT_EQ((*e)->record_id, 3);
  // Line breaks between tokens are dropped: every stored body is one line.
  const std::string pretty = "{\n\t\"System\": {\"Channel\": \"Security\"},\r\n \"x\": 1}";
  const std::string doc2 =
      R"({"schema":"tier0watch.batch/3","agent":{"id":"agent-1","hostname":"DC01","version":"1"},)"
      R"("queue_epoch":"00c0ffee00c0ffee","batch_id":"agent-1:00c0ffee00c0ffee:2","sequence":2,)"
      R"("records":[{"kind":"event","key":"Security|4","body":)" +
      pretty + "}]}";
  r = post(doc2, "");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  e = storage_->eventByKey("agent-1|Security|4");
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ((*e)->body, R"({"System": {"Channel": "Security"}, "x": 1})");
}

// A batch stored by a collector that re-serialised bodies (canonical: members sorted), re-sent
// after the upgrade with the agent's own text: still the same batch, and the same records.
TEST_F(BatchIngestTest, ReSendsAcrossTheUpgradeAreNotConflicts) {
  Json body = eventBody(21);
  IngestBatch old;
  old.agent = "dc01";
  old.agent_id = "agent-1";
  old.batch_id = "agent-1:00c0ffee00c0ffee:21";
  old.received = kNow;
  IngestRecord rec;
  rec.kind = RecordKind::kEvent;
  rec.key = "agent-1|Security|21";
  rec.host = "dc01";
  rec.body = body.dump();  // what the old collector stored: nlohmann's order
  old.records.push_back(rec);
  old.content_hash = contentHash(old.records);
  ASSERT_TRUE(storage_->ingest(old));

  // The agent's text: members in another order than nlohmann's.
  const std::string agent_text =
      R"({"System":{"EventID":4624,"Channel":"Security","Computer":"DC01","EventRecordID":21},)"
      R"("EventData":{"TargetUserName":"alice"}})";
  ASSERT_EQ(Json::parse(agent_text), body);
  ASSERT_NE(agent_text, body.dump());
  auto doc = [&](int64_t seq) {
    return R"({"schema":"tier0watch.batch/3","agent":{"id":"agent-1","hostname":"DC01",)"
           R"("version":"1"},"queue_epoch":"00c0ffee00c0ffee","batch_id":"agent-1:00c0ffee00c0ffee:)" +
           std::to_string(seq) + R"(","sequence":)" + std::to_string(seq) +
           R"(,"records":[{"kind":"event","key":"Security|21","body":)" + agent_text + "}]}";
  };
  Response r = post(doc(21), "");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(json(r)["status"], "duplicate") << r.body();
  // The same record in another batch: a duplicate, not a conflict.
  r = post(doc(22), "");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(json(r)["duplicates"], 1) << r.body();
  EXPECT_EQ(json(r)["conflicts"], 0) << r.body();
  // Other content under the same key is still a conflict.
  const std::string changed = agent_text.substr(0, agent_text.find("alice")) + "mallory\"}}";
  const std::string doc23 =
      R"({"schema":"tier0watch.batch/3","agent":{"id":"agent-1","hostname":"DC01","version":"1"},)"
      R"("queue_epoch":"00c0ffee00c0ffee","batch_id":"agent-1:00c0ffee00c0ffee:23","sequence":23,)"
      R"("records":[{"kind":"event","key":"Security|21","body":)" +
      changed + "}]}";
  r = post(doc23, "");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(json(r)["conflicts"], 1) << r.body();
}

}  // namespace
}  // namespace t0w::collector
