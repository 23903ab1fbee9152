// Shipper::shipOnce against a scripted Transport double, a fake clock and scripted randomness:
// every outcome class must drive the right queue call. Nothing sleeps.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <nlohmann/json.hpp>

#include "agent/queue/chunk_codec.h"
#include "agent/queue/event_queue.h"
#include "agent/shipper/shipper.h"
#include "common/zstd/zstd_codec.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_random.h"
#include "tests/fakes/fake_transport.h"
#include "tests/support/queue_records.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

using std::chrono::milliseconds;
using t0w::testing::eventBatch;
using Kind = Shipper::Step::Kind;

using testing::FakeRandom;
using testing::FakeTransport;

// The batch a request carried, decoded as the collector would.
DecodedBatch batchOf(const HttpRequest& request) {
  auto decoded = decodeBatch(request.body, 64 << 20);
  EXPECT_TRUE(decoded) << decoded.error().toString();
  return decoded ? *decoded : DecodedBatch{};
}

// Answers with respond(batch) for the batch the request carried.
std::function<TransportResult(const HttpRequest&)> onBatch(
    std::function<TransportResult(const DecodedBatch&)> respond) {
  return [respond](const HttpRequest& request) { return respond(batchOf(request)); };
}

// An answer of the collector.
TransportResult status(int code, HttpHeaders headers = {}) {
  headers.emplace_back("Tier0Watch-Collector", "2");
  return HttpResponse{code, std::move(headers), "{}"};
}

// An answer of a proxy in the way (no collector header).
TransportResult proxy(int code) {
  return HttpResponse{code, {{"Content-Type", "text/html"}}, "<html>nope</html>"};
}

class ShipperTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    QueueOptions qo;
    qo.path = dir_.path() / "queue.db";
    qo.max_chunk_records = 4;
    auto q = EventQueue::open(qo, clock_);
    ASSERT_TRUE(q) << q.error().toString();
    queue_ = std::move(*q);
  }

  Shipper make(ShipperOptions o = {}) {
    o.bearer_token = "tok";
    o.backoff.base = milliseconds(100);
    o.backoff.cap = milliseconds(10'000);
    o.auth_pause = milliseconds(60'000);
    return Shipper(*queue_, transport_, encoder_, o, clock_, random_);
  }

  void put(uint64_t first, size_t n) {
    auto r = queue_->enqueue(eventBatch("Security", first, n), Checkpoint{"Security", "x"});
    ASSERT_TRUE(r) << r.error().toString();
  }

  QueueStats stats() { return *queue_->stats(); }

  std::set<std::string> deliveredKeys() const {
    std::set<std::string> keys;
    for (const auto& s : transport_.sent) {
      for (const auto& r : batchOf(s).records) keys.insert(r.key);
    }
    return keys;
  }

  t0w::testing::TempDir dir_;
  t0w::testing::FakeClock clock_;
  FakeRandom random_ = FakeRandom::maximum();
  FakeTransport transport_;
  BatchEncoder encoder_{AgentIdentity{"agent1", "host", "0.1.0"}};
  std::unique_ptr<EventQueue> queue_;
};

TEST_F(ShipperTest, EmptyQueueIsIdleAndSendsNothing) {
  Shipper s = make();
  auto step = s.shipOnce();
  ASSERT_TRUE(step);
  EXPECT_EQ(step->kind, Kind::kIdle);
  EXPECT_TRUE(transport_.sent.empty());
}

TEST_F(ShipperTest, AcceptedBatchIsAcked) {
  put(1, 10);
  Shipper s = make();
  auto step = s.shipOnce();
  ASSERT_TRUE(step) << step.error().toString();
  EXPECT_EQ(step->kind, Kind::kShipped);
  EXPECT_EQ(step->records, 10u);
  ASSERT_EQ(transport_.sent.size(), 1u);
  const HttpRequest& request = transport_.sent[0];
  const DecodedBatch batch = batchOf(request);
  EXPECT_EQ(request.path, "/api/v1/batches");
  EXPECT_EQ(request.bearer_token, "tok");
  EXPECT_EQ(findHeader(request.headers, "content-encoding"), "gzip");
  EXPECT_EQ(batch.batch_id, "agent1:" + std::to_string(batch.sequence));
  EXPECT_EQ(batch.records.size(), 10u);
  EXPECT_EQ(batch.records[0].key, "agent1|Security|1");
  EXPECT_EQ(stats().events, 0u);
  EXPECT_EQ(s.counters().records_shipped, 10u);
  auto st = queue_->statusEntries();
  ASSERT_TRUE(st);
  const auto last = nlohmann::json::parse(st->at("shipper.last_outcome"));
  EXPECT_EQ(last["outcome"], "ack");
  EXPECT_EQ(last["batch_id"], batch.batch_id);
}

TEST_F(ShipperTest, BatchLimitsSplitTheQueueIntoFullLeases) {
  put(1, 12);  // three chunks of four
  ShipperOptions o;
  o.max_events = 8;
  Shipper s = make(o);
  auto first = s.shipOnce();
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->full);
  EXPECT_EQ(first->records, 8u);
  auto second = s.shipOnce();
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->full);
  EXPECT_EQ(second->records, 4u);
  EXPECT_GT(batchOf(transport_.sent[1]).sequence, batchOf(transport_.sent[0]).sequence);
  EXPECT_EQ(deliveredKeys().size(), 12u);
}

TEST_F(ShipperTest, RetryableStatusReleasesWithRetryAndBacksOff) {
  put(1, 3);
  transport_.respond = onBatch([](const DecodedBatch&) { return status(503); });
  Shipper s = make();
  auto step = s.shipOnce();
  ASSERT_TRUE(step);
  EXPECT_EQ(step->kind, Kind::kBackoff);
  EXPECT_EQ(step->delay, milliseconds(100));  // uniform[0, base] with the max draw
  EXPECT_EQ(stats().events, 3u);
  EXPECT_EQ(stats().leased_events, 0u);  // released, shippable again
  EXPECT_EQ(s.counters().retries, 1u);
  auto again = s.shipOnce();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->delay, milliseconds(200));  // exponent grows
  // Retrying the same lease would reuse its id; a new reserve gives a new sequence.
  EXPECT_EQ(batchOf(transport_.sent[0]).records.size(), batchOf(transport_.sent[1]).records.size());
  transport_.respond = onBatch([](const DecodedBatch&) { return status(200); });
  ASSERT_EQ(s.shipOnce()->kind, Kind::kShipped);
  EXPECT_EQ(stats().events, 0u);
  transport_.respond = onBatch([](const DecodedBatch&) { return status(500); });
  put(10, 1);
  EXPECT_EQ(s.shipOnce()->delay, milliseconds(100));  // success reset the backoff
}

TEST_F(ShipperTest, RetryAfterIsAFloor) {
  put(1, 3);
  transport_.respond = onBatch([](const DecodedBatch&) {
    return status(429, {{"Retry-After", "7"}});
  });
  Shipper s = make();
  auto step = s.shipOnce();
  ASSERT_TRUE(step);
  EXPECT_EQ(step->kind, Kind::kBackoff);
  EXPECT_EQ(step->delay, milliseconds(7000));
  EXPECT_EQ(stats().events, 3u);
}

TEST_F(ShipperTest, TransportErrorsDoNotSpendTheRetryBudget) {
  put(1, 3);
  ShipperOptions o;
  o.retry_budget = 2;
  Shipper s = make(o);
  transport_.respond = onBatch([](const DecodedBatch&) {
    return TransportResult(TransportError{TransportErrorKind::kConnectRefused, "refused"});
  });
  for (int i = 0; i < 5; ++i) ASSERT_EQ(s.shipOnce()->kind, Kind::kBackoff);
  EXPECT_EQ(s.counters().transport_errors, 5u);
  EXPECT_EQ(s.counters().retries, 0u);
  EXPECT_EQ(stats().events, 3u);
  EXPECT_EQ(stats().dead_letter_chunks, 0u);
  // Two budget-spending failures of the same batch exhaust it: dead-lettered.
  transport_.respond = onBatch([](const DecodedBatch&) { return status(502); });
  ASSERT_EQ(s.shipOnce()->kind, Kind::kBackoff);
  EXPECT_EQ(stats().events, 3u);
  ASSERT_EQ(s.shipOnce()->kind, Kind::kBackoff);
  EXPECT_EQ(stats().events, 0u);
  EXPECT_EQ(stats().dead_letter_chunks, 1u);
  EXPECT_EQ(s.counters().dead_lettered_records, 3u);
}

TEST_F(ShipperTest, UnlimitedBudgetNeverDeadLetters) {
  put(1, 2);
  transport_.respond = onBatch([](const DecodedBatch&) { return status(500); });
  Shipper s = make();
  for (int i = 0; i < 50; ++i) ASSERT_EQ(s.shipOnce()->kind, Kind::kBackoff);
  EXPECT_EQ(stats().events, 2u);
  EXPECT_EQ(stats().dead_letter_chunks, 0u);
}

TEST_F(ShipperTest, PayloadTooLargeHalvesUntilBatchesFit) {
  put(1, 10);
  transport_.respond =
      onBatch([](const DecodedBatch& b) { return status(b.records.size() > 3 ? 413 : 200); });
  Shipper s = make();
  auto step = s.shipOnce();
  ASSERT_TRUE(step) << step.error().toString();
  EXPECT_EQ(step->kind, Kind::kShipped);
  EXPECT_EQ(stats().events, 0u);
  EXPECT_EQ(stats().dead_letter_chunks, 0u);
  std::vector<size_t> sizes;
  std::set<std::string> ids;
  for (const auto& request : transport_.sent) {
    const DecodedBatch batch = batchOf(request);
    sizes.push_back(batch.records.size());
    EXPECT_TRUE(ids.insert(batch.batch_id).second) << "batch id reused: " << batch.batch_id;
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{10, 5, 2, 3, 5, 2, 3}));
  EXPECT_EQ(deliveredKeys().size(), 10u);
  EXPECT_EQ(s.currentBatchLimit(), 2u);  // later leases start small
}

TEST_F(ShipperTest, SingleRecordStillTooLargeIsDeadLetteredOthersDelivered) {
  put(1, 4);
  transport_.respond = onBatch([](const DecodedBatch& b) {
    for (const auto& r : b.records) {
      if (r.key == "agent1|Security|3") return status(413);
    }
    return status(200);
  });
  Shipper s = make();
  auto step = s.shipOnce();
  ASSERT_TRUE(step);
  EXPECT_EQ(stats().events, 0u);
  EXPECT_EQ(stats().dead_letter_chunks, 1u);
  auto dl = queue_->deadLetters(10);
  ASSERT_TRUE(dl);
  ASSERT_EQ(dl->size(), 1u);
  EXPECT_NE((*dl)[0].reason.find("Security|3"), std::string::npos) << (*dl)[0].reason;
  std::set<std::string> accepted;
  for (const auto& request : transport_.sent) {
    const DecodedBatch batch = batchOf(request);
    if (batch.records.size() == 1 && batch.records[0].key == "agent1|Security|3") continue;
    bool has3 = false;
    for (const auto& r : batch.records) has3 = has3 || r.key == "agent1|Security|3";
    if (!has3) {
      for (const auto& r : batch.records) accepted.insert(r.key);
    }
  }
  EXPECT_EQ(accepted,
            (std::set<std::string>{"agent1|Security|1", "agent1|Security|2", "agent1|Security|4"}));
  EXPECT_EQ(s.counters().dead_lettered_records, 1u);
}

TEST_F(ShipperTest, UnauthorizedPausesAndKeepsRecords) {
  put(1, 3);
  transport_.respond = onBatch([](const DecodedBatch&) { return status(401); });
  Shipper s = make();
  auto step = s.shipOnce();
  ASSERT_TRUE(step);
  EXPECT_EQ(step->kind, Kind::kPaused);
  EXPECT_EQ(step->delay, milliseconds(60'000));
  EXPECT_EQ(stats().events, 3u);
  EXPECT_EQ(stats().leased_events, 0u);
  EXPECT_EQ(s.counters().retries, 0u);
  EXPECT_EQ(s.counters().auth_pauses, 1u);
  transport_.respond = onBatch([](const DecodedBatch&) { return status(403); });
  EXPECT_EQ(s.shipOnce()->kind, Kind::kPaused);
  const auto last = nlohmann::json::parse(queue_->statusEntries()->at("shipper.last_outcome"));
  EXPECT_EQ(last["status"], 403);
}

TEST_F(ShipperTest, TheCollectorsBatchRefusalDeadLetters) {
  put(1, 3);
  put(4, 2);
  transport_.respond = onBatch([](const DecodedBatch&) {
    return status(400, {{"Tier0Watch-Refusal", "batch"}});
  });
  ShipperOptions o;
  o.max_events = 4;
  Shipper s = make(o);
  auto step = s.shipOnce();
  ASSERT_TRUE(step);
  EXPECT_EQ(step->kind, Kind::kShipped);
  EXPECT_EQ(stats().events, 2u);  // only the lease went
  EXPECT_EQ(stats().dead_letter_chunks, 1u);
  transport_.respond = onBatch([](const DecodedBatch&) { return status(200); });
  EXPECT_EQ(s.shipOnce()->kind, Kind::kShipped);
  EXPECT_EQ(stats().events, 0u);
}

TEST_F(ShipperTest, ProxyAnswersNeverDeleteEvents) {
  // Issue 10: a proxy answering 404/405 for a while dead-lettered whole batches. Now every
  // answer without the collector's header keeps the lease queued and backs off, even with a
  // retry budget of one, and the events go out once the collector answers.
  put(1, 4);
  put(5, 4);
  ShipperOptions o;
  o.retry_budget = 1;
  o.collector_url = "https://collector.example:8443";
  Shipper s = make(o);
  uint64_t answers = 0;
  for (int code : {404, 405, 400, 200, 502, 413}) {
    transport_.respond = onBatch([code](const DecodedBatch&) { return proxy(code); });
    for (int i = 0; i < 3; ++i) {
      auto step = s.shipOnce();
      ASSERT_TRUE(step) << step.error().toString();
      if (code == 413) continue;  // halved down to one record, then backs off
      EXPECT_EQ(step->kind, Kind::kBackoff) << code;
      ++answers;
    }
    EXPECT_EQ(stats().events, 8u) << code;
    EXPECT_EQ(stats().dead_letter_chunks, 0u) << code;
  }
  EXPECT_EQ(s.counters().non_collector_answers, s.counters().transport_errors);
  EXPECT_GE(s.counters().non_collector_answers, answers);
  EXPECT_EQ(s.counters().dead_lettered_records, 0u);
  EXPECT_EQ(s.counters().retries, 0u);  // the budget was never spent
  auto st = queue_->statusEntries();
  ASSERT_TRUE(st);
  const auto last = nlohmann::json::parse(st->at("shipper.last_outcome"));
  EXPECT_NE(last["detail"].get<std::string>().find("not from the collector"), std::string::npos);

  transport_.respond = onBatch([](const DecodedBatch&) { return status(200); });
  while (stats().events > 0) ASSERT_EQ(s.shipOnce()->kind, Kind::kShipped);
  EXPECT_EQ(deliveredKeys().size(), 8u);
  EXPECT_EQ(s.counters().records_shipped, 8u);
}

TEST_F(ShipperTest, CollectorRefusingTheRequestPausesWithoutDeadLetter) {
  // The collector's own 404 (collector.url with a wrong path) is a configuration error.
  put(1, 4);
  transport_.respond = onBatch([](const DecodedBatch&) { return status(404); });
  Shipper s = make();
  auto step = s.shipOnce();
  ASSERT_TRUE(step);
  EXPECT_EQ(step->kind, Kind::kPaused);
  EXPECT_EQ(stats().events, 4u);
  EXPECT_EQ(stats().dead_letter_chunks, 0u);
}

TEST_F(ShipperTest, SequencesKeepIncreasingAcrossRestarts) {
  put(1, 2);
  {
    Shipper s = make();
    ASSERT_EQ(s.shipOnce()->kind, Kind::kShipped);
  }
  const int64_t before = batchOf(transport_.sent.back()).sequence;
  queue_.reset();
  open();
  put(3, 2);
  Shipper s = make();
  ASSERT_EQ(s.shipOnce()->kind, Kind::kShipped);
  EXPECT_GT(batchOf(transport_.sent.back()).sequence, before);
}

TEST_F(ShipperTest, DrainShipsEverythingBeforeTheDeadline) {
  put(1, 12);
  ShipperOptions o;
  o.max_events = 4;
  Shipper s = make(o);
  EXPECT_EQ(s.drain(clock_.monotonic() + std::chrono::seconds(5)), 12u);
  EXPECT_EQ(stats().events, 0u);
  EXPECT_EQ(transport_.sent.size(), 3u);
}

TEST_F(ShipperTest, DrainStopsWhenTheBackoffOutlastsTheDeadline) {
  put(1, 4);
  transport_.respond = onBatch([](const DecodedBatch&) {
    return status(429, {{"Retry-After", "60"}});
  });
  Shipper s = make();
  EXPECT_EQ(s.drain(clock_.monotonic() + std::chrono::seconds(5)), 0u);
  EXPECT_EQ(transport_.sent.size(), 1u);
  EXPECT_EQ(stats().events, 4u);  // stays queued for the next start
  EXPECT_EQ(stats().leased_events, 0u);
}

// A collector that reads tier0watch.batch/3: after its first answer, chunks go as stored.
class ShipperV3Test : public ShipperTest {
 protected:
  Shipper makeV3() {
    encoder_v3_ =
        std::make_unique<BatchEncoder>(AgentIdentity{"agent1", "host", "0.1.0"}, queue_->epoch());
    ShipperOptions o;
    o.bearer_token = "tok";
    return Shipper(*queue_, transport_, *encoder_v3_, o, clock_, random_);
  }

  // The document a v3 request carried, decoded by a plain zstd reader.
  static nlohmann::json documentOf(const HttpRequest& request) {
    auto json = zstdDecompress(request.body, 64 << 20);
    EXPECT_TRUE(json.ok()) << json.error().toString();
    return json.ok() ? nlohmann::json::parse(*json) : nlohmann::json();
  }

  std::unique_ptr<BatchEncoder> encoder_v3_;
};

TEST_F(ShipperV3Test, ChunksGoAsStoredOnceTheCollectorReadsV3) {
  transport_.answer = HttpResponse{200, {{"Tier0Watch-Collector", "3"}}, "{}"};
  Shipper s = makeV3();
  put(1, 4);
  ASSERT_TRUE(s.shipOnce());
  // Nothing was known of the collector before its first answer: v2 + gzip.
  EXPECT_EQ(findHeader(transport_.sent[0].headers, "content-encoding"), "gzip");
  put(5, 10);  // chunks of 4, 4 and 2 records
  auto step = s.shipOnce();
  ASSERT_TRUE(step) << step.error().toString();
  EXPECT_EQ(step->kind, Kind::kShipped);
  ASSERT_EQ(transport_.sent.size(), 2u);
  const HttpRequest& request = transport_.sent[1];
  EXPECT_EQ(findHeader(request.headers, "content-encoding"), "zstd");
  // Each chunk's frame is in the body byte for byte: compressed once, when it was queued.
  for (auto [first, n] : {std::pair{5, 4}, {9, 4}, {13, 2}}) {
    auto chunk = encodeChunk(eventBatch("Security", first, n), 1);
    ASSERT_TRUE(chunk.ok());
    EXPECT_NE(request.body.find(chunk->payload), std::string::npos) << first;
  }
  const nlohmann::json doc = documentOf(request);
  EXPECT_EQ(doc["schema"], "tier0watch.batch/3");
  EXPECT_EQ(doc["queue_epoch"], queue_->epoch());
  EXPECT_EQ(doc["batch_id"],
            "agent1:" + queue_->epoch() + ":" + std::to_string(doc["sequence"].get<int64_t>()));
  const auto sent = eventBatch("Security", 5, 10);
  ASSERT_EQ(doc["records"].size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(doc["records"][i]["key"], sent[i].key) << "agent-local in v3";
    EXPECT_EQ(doc["records"][i]["body"], nlohmann::json::parse(sent[i].body));
  }
  EXPECT_EQ(stats().events, 0u);
  EXPECT_EQ(s.counters().records_shipped, 14u);
}

TEST_F(ShipperV3Test, UntilTheCollectorIsKnownALeaseIsOneChunk) {
  transport_.answers.push_back(proxy(502));  // a proxy's answer tells nothing of the collector
  Shipper s = makeV3();
  put(1, 10);  // chunks of 4, 4 and 2 records
  auto step = s.shipOnce();
  ASSERT_TRUE(step) << step.error().toString();
  EXPECT_EQ(step->kind, Kind::kBackoff);
  transport_.answer = HttpResponse{200, {{"Tier0Watch-Collector", "3"}}, "{}"};
  step = s.shipOnce();
  ASSERT_TRUE(step) << step.error().toString();
  EXPECT_EQ(step->records, 4u);
  step = s.shipOnce();
  ASSERT_TRUE(step) << step.error().toString();
  EXPECT_EQ(step->records, 6u);  // the rest in one lease, as stored
  ASSERT_EQ(transport_.sent.size(), 3u);
  for (size_t i : {0, 1}) {
    EXPECT_EQ(findHeader(transport_.sent[i].headers, "content-encoding"), "gzip");
    EXPECT_EQ(batchOf(transport_.sent[i]).records.size(), 4u);
  }
  EXPECT_EQ(findHeader(transport_.sent[2].headers, "content-encoding"), "zstd");
  EXPECT_EQ(documentOf(transport_.sent[2])["records"].size(), 6u);
  EXPECT_EQ(stats().events, 0u);
}

TEST_F(ShipperV3Test, A413OnAStoredBatchSendsHalvesFromTheRecords) {
  Shipper s = makeV3();
  transport_.answer = HttpResponse{200, {{"Tier0Watch-Collector", "3"}}, "{}"};
  put(1, 1);
  ASSERT_TRUE(s.shipOnce());
  put(2, 8);
  std::vector<std::string> keys;
  transport_.respond = [&](const HttpRequest& request) -> TransportResult {
    const nlohmann::json doc = documentOf(request);
    if (doc["records"].size() > 4) return HttpResponse{413, {{"Tier0Watch-Collector", "3"}}, ""};
    for (const auto& r : doc["records"]) keys.push_back(r["key"]);
    return HttpResponse{200, {{"Tier0Watch-Collector", "3"}}, "{}"};
  };
  auto step = s.shipOnce();
  ASSERT_TRUE(step) << step.error().toString();
  EXPECT_EQ(step->kind, Kind::kShipped);
  ASSERT_EQ(transport_.sent.size(), 4u);  // v2 first, then the stored 8, then two halves of 4
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(findHeader(transport_.sent[i].headers, "content-encoding"), "zstd");
  }
  std::vector<std::string> want;
  for (const auto& r : eventBatch("Security", 2, 8)) want.push_back(r.key);
  EXPECT_EQ(keys, want);
  EXPECT_EQ(stats().events, 0u);
}

TEST_F(ShipperV3Test, AnOlderCollectorKeepsGettingV2Gzip) {
  Shipper s = makeV3();  // the fixture's default answer names version 2
  for (uint64_t first : {1, 5, 9}) {
    put(first, 4);
    ASSERT_TRUE(s.shipOnce());
  }
  ASSERT_EQ(transport_.sent.size(), 3u);
  for (const auto& request : transport_.sent) {
    EXPECT_EQ(findHeader(request.headers, "content-encoding"), "gzip");
    EXPECT_EQ(batchOf(request).version, 2);
  }
  EXPECT_EQ(deliveredKeys().size(), 12u);
}

}  // namespace
}  // namespace t0w
