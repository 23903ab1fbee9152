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

// ---- The one-pass scan (decodeWireBatch), checked against the tree ----------------------------

const std::vector<BodyPath> kPaths = {{"System", "Channel"},
                                      {"System", "EventID"},
                                      {"System", "EventRecordID"},
                                      {"rule_id"},
                                      {"level"},
                                      {"event", "System", "Channel"},
                                      {"type"},
                                      {"dropped_events"},
                                      {"a", "b", "c", "d"}};

// The scan and the tree agree: the same acceptance and error, envelope, keys, kinds, times,
// fields, and bodies that are the same JSON value, the scan's being the document's own text.
void expectScanMatchesTree(const std::string& doc, const JsonLimits& limits = {}) {
  SCOPED_TRACE(doc.substr(0, 300));
  const uint64_t handed = scanDocumentsHandedToNlohmann();
  auto scan = scanBatchJson(doc, limits, kPaths);
  const bool fast = scanDocumentsHandedToNlohmann() == handed;
  auto tree = scanBatchJsonWithTree(doc, limits, kPaths);
  auto slow = scanBatchJsonNlohmann(doc, limits, kPaths);
  ASSERT_EQ(slow.ok(), tree.ok());
  // Only what is not JSON goes to nlohmann: never valid JSON (whether a valid batch or not),
  // nor a document that breaks a limit first.
  const bool malformed = !scan.ok() && scan.error().message.rfind("batch: not valid JSON", 0) == 0;
  EXPECT_EQ(fast, !malformed) << "handed to nlohmann";
  if (!slow.ok()) {
    EXPECT_EQ(slow.error().message, tree.error().message);
  }
  ASSERT_EQ(scan.ok(), tree.ok()) << (scan.ok() ? tree.error() : scan.error()).toString();
  if (!scan.ok()) {
    EXPECT_EQ(scan.error().code, tree.error().code);
    EXPECT_EQ(scan.error().message, tree.error().message);
    return;
  }
  EXPECT_FALSE(scan->tree_fallback);
  EXPECT_EQ(scan->version, tree->version);
  EXPECT_EQ(scan->agent.id, tree->agent.id);
  EXPECT_EQ(scan->agent.hostname, tree->agent.hostname);
  EXPECT_EQ(scan->agent.version, tree->agent.version);
  EXPECT_EQ(scan->queue_epoch, tree->queue_epoch);
  EXPECT_EQ(scan->batch_id, tree->batch_id);
  EXPECT_EQ(scan->sequence, tree->sequence);
  ASSERT_EQ(scan->records.size(), tree->records.size());
  for (size_t i = 0; i < scan->records.size(); ++i) {
    const WireRecord& a = scan->records[i];
    const WireRecord& b = tree->records[i];
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.key, b.key);
    EXPECT_EQ(a.time, b.time);
    ASSERT_GE(a.body.size(), 2u);
    EXPECT_EQ(a.body.front(), '{');
    EXPECT_EQ(a.body.back(), '}');
    EXPECT_GE(a.body.data(), scan->document.data());
    EXPECT_LE(a.body.data() + a.body.size(), scan->document.data() + scan->document.size());
    EXPECT_EQ(Json::parse(a.body), Json::parse(b.body)) << a.body;
    ASSERT_EQ(a.fields.size(), kPaths.size());
    for (size_t f = 0; f < kPaths.size(); ++f) {
      EXPECT_EQ(a.fields[f], b.fields[f]) << "record " << i << " path " << f;
    }
  }
}

const std::string kHead =
    R"({"schema":"tier0watch.batch/3","agent":{"id":"a1","hostname":"h","version":"1"},)"
    R"("queue_epoch":"00c0ffee00c0ffee","batch_id":"a1:00c0ffee00c0ffee:1","sequence":1,)";

TEST(BatchScan, MatchesTheTreeOnWellFormedBatches) {
  expectScanMatchesTree(v3Doc().dump());
  expectScanMatchesTree(v3Doc().dump(2));  // pretty-printed: spans over new lines
  Json d = v3Doc();
  d["schema"] = "tier0watch.batch/2";
  for (auto& r : d["records"]) r["key"] = "agent-7f3a|" + r["key"].get<std::string>();
  expectScanMatchesTree(d.dump());
  // Bodies as agents write them, member order kept.
  const std::string body =
      R"({"System":{"Provider":{"Name":"X"},"EventID":4624,"EventRecordID":18446744073709551615,)"
      R"("Channel":"Security"},"EventData":{"a":[1,{"System":{"Channel":"no"}}],"b":-0.5e3}})";
  auto scan = scanBatchJson(
      kHead + R"("records":[{"kind":"event","key":"Security|1","body":)" + body + "}]}", {},
      kPaths);
  ASSERT_TRUE(scan.ok()) << scan.error().toString();
  ASSERT_EQ(scan->records.size(), 1u);
  EXPECT_EQ(scan->records[0].body, body) << "stored as sent, not re-serialised";
  EXPECT_EQ(scan->records[0].fields[0].text, "Security");
  EXPECT_EQ(scan->records[0].fields[1].integer, 4624);
  EXPECT_EQ(scan->records[0].fields[2].integer, -1) << "unsigned wraps as get<int64_t>()";
}

TEST(BatchScan, FollowsTheTreeOnOddButValidDocuments) {
  auto rec = [](const std::string& body) {
    return R"({"kind":"event","key":"k|1","body":)" + body + "}";
  };
  for (const std::string& body : {
           // Duplicate members: the last counts, also when it is not an object.
           std::string(R"({"System":{"Channel":"A"},"System":{"EventID":5}})"),
           std::string(R"({"System":{"Channel":"A"},"System":"flat"})"),
           std::string(R"({"System":{"Channel":"A","Channel":7}})"),
           std::string(R"({"type":"a","type":null,"level":true})"),
           // Paths through arrays and scalars are not followed.
           std::string(R"({"System":[{"Channel":"A"}],"event":{"System":[1]}})"),
           std::string(
               R"({"a":{"b":{"c":{"d":"deep","e":1}}},"event":{"System":{"Channel":"C"}}})"),
           std::string(R"({"a":{"b":{"c":{"d":{"x":1}}}}})"),
           // Escapes in member names and values; Unicode.
           std::string(R"({"\u0053ystem":{"Chann\u0065l":"S\u00e9curit\u00e9 \ud83d\ude00"}})"),
           std::string("{\"System\":{\"Channel\":\"\xc3\xa9\\n\\t\\\"\\\\\"}}"),
           // Numbers of every kind.
           std::string(R"({"System":{"EventID":-9223372036854775808,"EventRecordID":1e2}})"),
           std::string(R"({"System":{"EventID":"4624","EventRecordID":"x"},"dropped_events":"7"})"),
           std::string(R"({"System":{"EventID":-9223372036854775809,"EventRecordID":-0}})"),
           // Whitespace everywhere, and nested members named like the envelope's.
           std::string(" {\n\t\"records\" : [ ] , \"body\" :{\"key\":1}, \"System\" : { } \r\n} "),
           std::string(R"({})"),
       }) {
    expectScanMatchesTree(kHead + R"("records":[)" + rec(body) + "," + rec(body) + "]}");
  }
  // Envelope members twice (the last counts), in any order, unknown ones ignored.
  expectScanMatchesTree(
      R"({"records":[{"body":{},"key":"x","kind":"alert","time":"2024-01-17T21:20:00.1234567Z"}],)"
      R"("sequence":2,"batch_id":"a1:00c0ffee00c0ffee:2","queue_epoch":"00c0ffee00c0ffee",)"
      R"("extra":{"records":[1],"agent":5},"agent":{"id":"zz","hostname":"h","version":"1"},)"
      R"("agent":{"id":"a1","hostname":"h","version":"1","more":[{}]},)"
      R"("schema":"tier0watch.batch/1","schema":"tier0watch.batch/3"})");
  expectScanMatchesTree(kHead +
                        R"("records":[{"kind":"event","key":"a","body":{"x":1}}],)"
                        R"("records":[{"kind":"event","key":"b","body":{"y":2},"body":{"z":3}}]})");
  expectScanMatchesTree(kHead + R"("records":[]})");
  expectScanMatchesTree("\xef\xbb\xbf" + kHead + R"("records":[]})");  // a BOM, as nlohmann
}

TEST(BatchScan, RefusesLikeTheTree) {
  const std::string doc = v3Doc().dump();
  const std::string rec = R"("records":[{"kind":"event","key":"a","body":)";
  for (const std::string& bad : {
           std::string("[]"),
           std::string("5"),
           std::string(""),
           std::string("{\"schema\":"),
           doc.substr(0, doc.size() - 1),
           doc + " x",
           doc + "}",
           kHead + R"("records":{}})",
           kHead + R"("records":[5]})",
           kHead + R"("records":[{"kind":"bogus","key":"a","body":{}}]})",
           kHead + R"("records":[{"kind":"event","key":"","body":{}}]})",
           kHead + R"("records":[{"kind":"event","key":7,"body":{}}]})",
           kHead + rec + R"([]}]})",
           kHead + R"("records":[{"kind":"event","key":"a"}]})",
           kHead + rec + R"({},"time":5}]})",
           kHead + rec + R"({},"time":"2024"}]})",
           kHead + rec + R"({},"time":"2024"},7]})",
           kHead + rec + "{\"x\":\"\xff\"}}]}",
           kHead + rec + "{\"x\":\"\xc0\xaf\"}}]}",
           kHead + rec + "{\"x\":\"\xed\xa0\x80\"}}]}",
           kHead + rec + R"({"x":"\ud800"}}]})",
           kHead + rec + "{\"x\":\"\x01\"}}]}",
           kHead + rec + R"({"x":01}}]})",
           kHead + rec + R"({"x":1,}}]})",
           kHead + R"("records":[],"sequence":1.0})",
           kHead + R"("records":[],"sequence":"1"})",
           kHead + R"("records":[],"agent":{"id":"a|b","hostname":"h","version":"1"}})",
           kHead + R"("records":[],"agent":{"id":"a1","hostname":5,"version":"1"}})",
           kHead + R"("records":[],"agent":[]})",
           kHead + R"("records":[],"queue_epoch":"00C0FFEE00C0FFEE"})",
           kHead + R"("records":[],"batch_id":5})",
           kHead + R"("records":[],"schema":"tier0watch.batch/4"})",
       }) {
    expectScanMatchesTree(bad);
    EXPECT_FALSE(scanBatchJson(bad, {}, kPaths).ok()) << bad;
  }
  // Limits: the same errors, at the same point.
  std::string deep = kHead + rec;
  for (int i = 0; i < 100; ++i) deep += "{\"a\":";
  deep += "1" + std::string(100, '}') + "}]}";
  expectScanMatchesTree(deep);
  auto r = scanBatchJson(deep, {}, kPaths);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kLimit);
  EXPECT_NE(r.error().message.find("deeper than 64"), std::string::npos);
  expectScanMatchesTree(doc, JsonLimits{64, 20, 1 << 20});
  expectScanMatchesTree(doc, JsonLimits{64, 1000, 8});
  expectScanMatchesTree(doc, JsonLimits{3, 1000, 1 << 20});
  expectScanMatchesTree(doc, JsonLimits{4, 1000, 1 << 20});
  for (size_t values = 0; values < 60; ++values) {
    expectScanMatchesTree(doc, JsonLimits{64, values, 1 << 20});
  }
}

// Strings of every length up to 40 with one special byte or sequence at every position (the
// reader looks at eight bytes at a time): the scan and the tree agree on each.
TEST(BatchScan, AgreesOnEveryPositionOfSpecialCharactersInStrings) {
  const std::vector<std::string> specials = {
      "\\\"",           "\\\\",     "\\n",          "\\u00e9",
      "\\ud83d\\ude00", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
      "\x01",           "\x1f",     "\x7f",         "\x80",
      "\xff",           "\xc3",     "\xed\xa0\x80", "\""};
  for (size_t len = 0; len <= 40; ++len) {
    for (size_t at = 0; at <= len; ++at) {
      for (const std::string& special : specials) {
        const std::string text = std::string(at, 'a') + special + std::string(len - at, 'b');
        expectScanMatchesTree(kHead + R"("records":[{"kind":"event","key":"k)" + text +
                              R"(","body":{"System":{"Channel":")" + text + R"("}}}]})");
      }
    }
  }
}

// Every prefix of a batch, and single-byte changes of it: the scan and the tree agree.
TEST(BatchScan, AgreesWithTheTreeOnEveryTruncationAndByteFlip) {
  const std::string doc = v3Doc().dump();
  for (size_t n = 0; n < doc.size(); n += 3) expectScanMatchesTree(doc.substr(0, n));
  for (size_t i = 0; i < doc.size(); ++i) {
    for (char c : {'{', '}', '"', ',', '[', ':', 'x', '1'}) {
      std::string d = doc;
      d[i] = c;
      expectScanMatchesTree(d);
    }
  }
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
