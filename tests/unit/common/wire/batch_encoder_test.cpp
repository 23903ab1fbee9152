#include "common/wire/batch_encoder.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "agent/core/event_json.h"
#include "agent/queue/event_queue.h"
#include "common/zlib/zlib_codec.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const AgentIdentity kAgent{"agent-7f3a", "DC01.corp.example", "0.1.0"};

QueueRecord logonEvent(uint64_t record_id) {
  Event e;
  e.system.provider_name = "Microsoft-Windows-Security-Auditing";
  e.system.provider_guid = "{54849625-5478-4994-A5BA-3E3B0328C30D}";
  e.system.event_id = 4624;
  e.system.version = 2;
  e.system.task = 12544;
  e.system.keywords = 0x8020000000000000ull;
  e.system.time_created = 133500000001234567;
  e.system.record_id = record_id;
  e.system.process_id = 652;
  e.system.thread_id = 4036;
  e.system.channel = "Security";
  e.system.computer = "DC01.corp.example";
  e.data_section = Event::DataSection::kEventData;
  e.addField("TargetUserName", "alice");
  e.addField("LogonType", "3");
  e.addField("IpAddress", "10.0.0.5");
  e.origin = {"Security", record_id, {}};
  QueueRecord r;
  r.kind = RecordKind::kEvent;
  r.key = "Security|" + std::to_string(record_id);
  r.time = e.system.time_created;
  r.body = eventToJsonLine(e);
  return r;
}

std::vector<QueueRecord> sampleRecords() {
  std::vector<QueueRecord> out;
  QueueRecord alert;
  alert.kind = RecordKind::kAlert;
  alert.key = "alert|rule-1|Security|101";
  alert.time = 133500000001234567;
  alert.body = R"({"rule_id":"rule-1","rule_title":"Logon","level":"high"})";
  out.push_back(alert);
  QueueRecord status;
  status.kind = RecordKind::kStatus;
  status.key = "queue|drop|1";
  status.body = R"({"type":"queue_drop","message":"dropped 3 events"})";
  out.push_back(status);
  out.push_back(logonEvent(101));
  out.push_back(logonEvent(102));
  return out;
}

TEST(BatchEncoder, RoundTripsThroughGzip) {
  const BatchEncoder enc(kAgent);
  const auto records = sampleRecords();
  auto batch = enc.encode(42, records);
  ASSERT_TRUE(batch.ok()) << batch.error().toString();
  EXPECT_EQ(batch->batch_id, "agent-7f3a:42");
  EXPECT_EQ(batch->record_count, 4u);
  ASSERT_GE(batch->gzip.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(batch->gzip[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(batch->gzip[1]), 0x8b);
  EXPECT_LT(batch->gzip.size(), batch->json_bytes);

  auto dec = decodeBatch(batch->gzip, 1 << 20);
  ASSERT_TRUE(dec.ok()) << dec.error().toString();
  EXPECT_EQ(dec->agent.id, kAgent.id);
  EXPECT_EQ(dec->agent.hostname, kAgent.hostname);
  EXPECT_EQ(dec->agent.version, kAgent.version);
  EXPECT_EQ(dec->batch_id, "agent-7f3a:42");
  EXPECT_EQ(dec->sequence, 42);
  ASSERT_EQ(dec->records.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(dec->records[i].kind, records[i].kind);
    EXPECT_EQ(dec->records[i].key, "agent-7f3a|" + records[i].key);
    EXPECT_EQ(dec->records[i].body, Json::parse(records[i].body));
  }
  EXPECT_EQ(dec->records[0].time.value_or(""), "2024-01-17T21:20:00.1234567Z");
  EXPECT_FALSE(dec->records[1].time.has_value());
  EXPECT_EQ(dec->records[2].body["System"]["EventRecordID"], 101);
}

// v2: the queue epoch is in the document and in the batch id, so that a new queue file (whose
// lease sequence starts again at 1) never sends a batch id the collector has seen.
TEST(BatchEncoder, V2CarriesTheQueueEpochInTheBatchId) {
  const BatchEncoder enc(kAgent, "00c0ffee00c0ffee");
  EXPECT_EQ(enc.batchId(42), "agent-7f3a:00c0ffee00c0ffee:42");
  auto batch = enc.encode(42, sampleRecords());
  ASSERT_TRUE(batch.ok()) << batch.error().toString();
  EXPECT_EQ(batch->batch_id, "agent-7f3a:00c0ffee00c0ffee:42");
  auto dec = decodeBatch(batch->gzip, 1 << 20);
  ASSERT_TRUE(dec.ok()) << dec.error().toString();
  EXPECT_EQ(dec->version, 2);
  EXPECT_EQ(dec->queue_epoch, "00c0ffee00c0ffee");
  EXPECT_EQ(dec->batch_id, "agent-7f3a:00c0ffee00c0ffee:42");
  EXPECT_EQ(dec->sequence, 42);
  EXPECT_NE(BatchEncoder(kAgent, "00000000000000aa").batchId(42),
            BatchEncoder(kAgent, "00000000000000bb").batchId(42));

  const Json doc = Json::parse(*enc.toJson(7, sampleRecords()));
  EXPECT_EQ(doc["schema"], "tier0watch.batch/2");
  Json d = doc;
  d["queue_epoch"] = "00C0FFEE00C0FFEE";
  EXPECT_FALSE(parseBatchJson(d.dump()).ok()) << "upper case";
  d = doc;
  d["queue_epoch"] = "00c0ffee";
  EXPECT_FALSE(parseBatchJson(d.dump()).ok()) << "short";
  d = doc;
  d["batch_id"] = "agent-7f3a:7";
  auto r = parseBatchJson(d.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("does not match"), std::string::npos);
  // v1 documents (older agents) still decode.
  auto v1 = parseBatchJson(*BatchEncoder(kAgent).toJson(7, sampleRecords()));
  ASSERT_TRUE(v1.ok()) << v1.error().toString();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->batch_id, "agent-7f3a:7");
  EXPECT_TRUE(v1->queue_epoch.empty());
}

TEST(BatchEncoder, EscapesIdentityAndKeysAndReplacesInvalidUtf8) {
  const BatchEncoder enc({"a\"b", "host\\name\n\xff", "1.0"});
  QueueRecord r = sampleRecords()[1];
  r.key = "tab\there|\xc3\xa9|\xfe";
  auto json = enc.toJson(1, std::span<const QueueRecord>(&r, 1));
  ASSERT_TRUE(json.ok());
  auto doc = Json::parse(*json, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << *json;
  EXPECT_EQ(doc["agent"]["id"], "a\"b");
  EXPECT_EQ(doc["records"][0]["key"], "a\"b|tab\there|\xc3\xa9|\xef\xbf\xbd");
  EXPECT_EQ(doc["agent"]["hostname"], "host\\name\n\xef\xbf\xbd");
}

TEST(BatchEncoder, RefusesABodyThatIsNotAnObject) {
  const BatchEncoder enc(kAgent);
  QueueRecord r = sampleRecords()[1];
  r.body = "[1,2]";
  auto json = enc.toJson(1, std::span<const QueueRecord>(&r, 1));
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.error().message.find("queue|drop|1"), std::string::npos);
}

TEST(BatchDecoder, StopsAZipBomb) {
  const BatchEncoder enc(kAgent);
  std::vector<QueueRecord> many;
  for (uint64_t i = 0; i < 2000; ++i) many.push_back(logonEvent(i));
  auto batch = enc.encode(1, many);
  ASSERT_TRUE(batch.ok());
  auto dec = decodeBatch(batch->gzip, batch->json_bytes - 1);
  ASSERT_FALSE(dec.ok());
  EXPECT_EQ(dec.error().code, Errc::kLimit);
  EXPECT_TRUE(decodeBatch(batch->gzip, batch->json_bytes).ok());
}

TEST(BatchDecoder, RejectsMalformedBatchesWithReasons) {
  const BatchEncoder enc(kAgent);
  auto good = enc.toJson(5, sampleRecords());
  ASSERT_TRUE(good.ok());
  const Json doc = Json::parse(*good);
  auto expectBad = [](const Json& d, const std::string& reason) {
    auto r = parseBatchJson(d.dump());
    ASSERT_FALSE(r.ok()) << reason;
    EXPECT_NE(r.error().message.find(reason), std::string::npos) << r.error().message;
  };
  Json d = doc;
  d["schema"] = "tier0watch.batch/4";
  expectBad(d, "schema");
  d = doc;
  d["schema"] = "tier0watch.batch/2";  // v2 needs the queue epoch
  expectBad(d, "queue_epoch");
  d = doc;
  d.erase("agent");
  expectBad(d, "agent");
  d = doc;
  d["batch_id"] = "other:5";
  expectBad(d, "does not match");
  d = doc;
  d["records"][2]["kind"] = "bogus";
  expectBad(d, "record 2: kind");
  d = doc;
  d["records"][0]["key"] = "someone-else|x";
  expectBad(d, "record 0: key");
  d = doc;
  d["records"][3]["body"] = "text";
  expectBad(d, "record 3: body");
  d = doc;
  d["records"][0]["time"] = "yesterday";
  expectBad(d, "record 0: time");
  EXPECT_FALSE(parseBatchJson("{\"schema\":").ok());
  EXPECT_FALSE(decodeBatch("not gzip at all", 1 << 20).ok());
  auto gz = zCompress(*good, ZFormat::kGzip, 6);
  EXPECT_FALSE(decodeBatch(gz->substr(0, gz->size() / 2), 1 << 20).ok());
}

// Issue 10: limits are checked while parsing, so a deep or wide document never reaches code
// that recurses over it (nlohmann's copy and dump()).
TEST(BoundedJson, EnforcesDepthValuesAndStringSizeWhileParsing) {
  const JsonLimits limits{8, 100, 16};
  auto ok = parseBoundedJson(
      R"({"a":[1,2,{"b":"text"}],"c":null,"d":true,"e":-1.5,"f":18446744073709551615})", limits);
  ASSERT_TRUE(ok.ok()) << ok.error().toString();
  EXPECT_EQ(*ok,
            Json::parse(
                R"({"a":[1,2,{"b":"text"}],"c":null,"d":true,"e":-1.5,"f":18446744073709551615})"));
  auto deep = parseBoundedJson(std::string(100000, '[') + std::string(100000, ']'), limits);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().code, Errc::kLimit);
  EXPECT_NE(deep.error().message.find("deeper than 8"), std::string::npos);
  std::string wide = "[";
  for (int i = 0; i < 200; ++i) wide += (i ? ",0" : "0");
  auto many = parseBoundedJson(wide + "]", limits);
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.error().message.find("more than 100 JSON values"), std::string::npos);
  auto long_string = parseBoundedJson(R"({"k":"0123456789abcdefX"})", limits);
  ASSERT_FALSE(long_string.ok());
  EXPECT_EQ(long_string.error().code, Errc::kLimit);
  auto long_key = parseBoundedJson(R"({"0123456789abcdefX":1})", limits);
  EXPECT_FALSE(long_key.ok());
  auto bad = parseBoundedJson("{\"a\":", limits);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kParse);
  EXPECT_FALSE(parseBoundedJson("[1] trailing", limits).ok());
  EXPECT_FALSE(parseBoundedJson("\"\xff\"", limits).ok()) << "invalid UTF-8";
}

TEST(BatchDecoder, RefusesADeepRecordBodyWithoutRecursing) {
  std::string body = "{\"x\":";
  for (int i = 0; i < 100000; ++i) body += "{\"a\":";
  body += "1" + std::string(100000, '}') + "}";
  QueueRecord r;
  r.kind = RecordKind::kEvent;
  r.key = "Security|1";
  r.body = body;
  auto batch =
      BatchEncoder(kAgent, "00c0ffee00c0ffee").encode(1, std::span<const QueueRecord>(&r, 1));
  ASSERT_TRUE(batch.ok());
  EXPECT_LT(batch->gzip.size(), 4096u);
  auto dec = decodeBatch(batch->gzip, 16 << 20);
  ASSERT_FALSE(dec.ok());
  EXPECT_EQ(dec.error().code, Errc::kLimit);
  EXPECT_NE(dec.error().message.find("deeper than 64"), std::string::npos) << dec.error().message;
}

// Validation with the real JSON Schema, through python3-jsonschema.
class BatchSchema : public ::testing::Test {
 protected:
  // 0 valid, 1 invalid; skips when python3 or jsonschema is missing.
  int validate(const std::string& json) {
    const std::string python = T0W_PYTHON3;
    if (python.empty()) return -1;
    const auto file = dir_.path() / "batch.json";
    std::ofstream(file) << json;
    const std::string cmd = "\"" + python + "\" \"" + std::string(T0W_SOURCE_DIR) +
                            "/tests/unit/common/wire/batch_schema_check.py\" \"" +
                            std::string(T0W_SOURCE_DIR) + "/schemas\" \"" + file.string() +
                            "\" 2>\"" + (dir_.path() / "err.txt").string() + "\"";
    const int rc = std::system(cmd.c_str());
    std::ifstream err(dir_.path() / "err.txt");
    last_error_.assign(std::istreambuf_iterator<char>(err), {});
#ifdef _WIN32
    return rc;
#else
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
#endif
  }
  testing::TempDir dir_;
  std::string last_error_;
};

TEST_F(BatchSchema, EncodedBatchValidatesAndBrokenOnesDoNot) {
  const BatchEncoder enc(kAgent);
  auto json = enc.toJson(7, sampleRecords());
  ASSERT_TRUE(json.ok());
  const int rc = validate(*json);
  if (rc == -1 || rc == 2) GTEST_SKIP() << "python3-jsonschema unavailable: " << last_error_;
  EXPECT_EQ(rc, 0) << last_error_;

  const Json doc = Json::parse(*json);
  Json bad = doc;
  bad["records"][2]["body"].erase("System");  // events must follow event.schema.json
  EXPECT_EQ(validate(bad.dump()), 1);
  EXPECT_NE(last_error_.find("System"), std::string::npos) << last_error_;
  bad = doc;
  bad["records"][1]["body"].erase("message");  // status records need a message
  EXPECT_EQ(validate(bad.dump()), 1) << "status body without message";
  bad = doc;
  bad["records"][0]["key"] = "no-separator";
  EXPECT_EQ(validate(bad.dump()), 1) << "key without agent prefix";
  bad = doc;
  bad["extra"] = 1;
  EXPECT_EQ(validate(bad.dump()), 1) << "unknown member";
  EXPECT_EQ(validate(enc.toJson(8, {}).value()), 0) << last_error_;

  const BatchEncoder v2(kAgent, "00c0ffee00c0ffee");
  EXPECT_EQ(validate(*v2.toJson(9, sampleRecords())), 0) << last_error_;
  bad = Json::parse(*v2.toJson(9, sampleRecords()));
  bad.erase("queue_epoch");
  EXPECT_EQ(validate(bad.dump()), 1) << "v2 without epoch";
  bad = Json::parse(*v2.toJson(9, sampleRecords()));
  bad["batch_id"] = "agent-7f3a:9";
  EXPECT_EQ(validate(bad.dump()), 1) << "v2 batch id without epoch";
}

// The full path without network: queue lease -> batch -> collector-side decode.
TEST(BatchEncoder, EncodesAQueueLease) {
  testing::TempDir dir;
  testing::FakeClock clock;
  QueueOptions o;
  o.path = dir.path() / "queue.db";
  auto q = EventQueue::open(o, clock);
  ASSERT_TRUE(q.ok());
  std::vector<QueueRecord> records;
  for (uint64_t i = 1; i <= 50; ++i) records.push_back(logonEvent(i));
  records.push_back(sampleRecords()[0]);
  ASSERT_TRUE((*q)->enqueue(records, {"Security", "bookmark"}).ok());
  auto lease = (*q)->reserve(1000, 1 << 20, 30s);
  ASSERT_TRUE(lease.ok());
  auto batch = BatchEncoder(kAgent).encode(lease->id, lease->records);
  ASSERT_TRUE(batch.ok());
  auto dec = decodeBatch(batch->gzip, 16 << 20);
  ASSERT_TRUE(dec.ok()) << dec.error().toString();
  ASSERT_EQ(dec->records.size(), 51u);
  EXPECT_EQ(dec->records[0].kind, RecordKind::kAlert) << "priority lane first";
  EXPECT_EQ(dec->records[1].key, "agent-7f3a|Security|1");
  EXPECT_EQ(dec->records[50].key, "agent-7f3a|Security|50");
  EXPECT_EQ(dec->sequence, lease->id);
  EXPECT_EQ(*(*q)->ack(*lease), 51u);
}

}  // namespace
}  // namespace t0w
