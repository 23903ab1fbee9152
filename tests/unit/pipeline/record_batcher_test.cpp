// RecordBatcher with the real queue: records reused from batch to batch keep nothing of the
// records they held before, and the buffers they keep stay within a few batches' bytes.
#include "agent/pipeline/record_batcher.h"

#include <gtest/gtest.h>

#include <map>

#include "agent/core/event_json.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

// An event whose body grows with `size` (a TargetUserName of that many letters).
Event event(uint64_t record_id, size_t size) {
  Event e;
  e.system.provider_name = "Microsoft-Windows-Security-Auditing";
  e.system.event_id = 4624;
  e.system.channel = "Security";
  e.system.computer = "DC01";
  e.system.record_id = record_id;
  if (record_id % 3 == 0) e.system.time_created = 133600000000000000 + record_id;
  e.addField("TargetUserName", std::string(size, static_cast<char>('a' + record_id % 26)));
  e.origin = {"events.xml", record_id * 100, {}};
  return e;
}

class RecordBatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    QueueOptions o;
    o.path = dir_.path() / "queue.db";
    auto q = EventQueue::open(o, clock_);
    ASSERT_TRUE(q) << q.error().toString();
    queue_ = std::move(*q);
    writer_ = std::make_unique<QueueWriter>(*queue_, metrics_, nullptr, stop_,
                                            std::chrono::milliseconds(10), nullptr);
    stream_.name = "xml:events.xml";
    stream_.position_prefix = "offset:";
  }

  RecordBatcher make(BatchLimits limits) {
    return RecordBatcher(*writer_, stream_, "", limits, {source_, alerts_, gaps_}, nullptr);
  }

  // Every stored record: key -> (body, time).
  std::map<std::string, std::pair<std::string, std::optional<int64_t>>> stored() {
    std::map<std::string, std::pair<std::string, std::optional<int64_t>>> out;
    for (;;) {
      auto lease = queue_->reserve(100000, 1 << 30, std::chrono::seconds(60));
      EXPECT_TRUE(lease) << lease.error().toString();
      if (!lease || lease->empty()) break;
      for (const auto& r : lease->records) out[r.key] = {r.body, r.time};
      EXPECT_TRUE(queue_->ack(*lease));
    }
    return out;
  }

  t0w::testing::TempDir dir_;
  t0w::testing::FakeClock clock_;
  AgentMetrics metrics_;
  StopLatch stop_;
  std::unique_ptr<EventQueue> queue_;
  std::unique_ptr<QueueWriter> writer_;
  SourceStream stream_;
  SourceMetrics source_;
  std::atomic<uint64_t> alerts_{0};
  std::atomic<uint64_t> gaps_{0};
};

TEST_F(RecordBatcherTest, ReusedRecordsKeepNothingOfTheirLastBatch) {
  RecordBatcher batcher = make(BatchLimits{4, 1 << 20});
  std::map<std::string, std::pair<std::string, std::optional<int64_t>>> want;
  // Long bodies, then shorter ones in the same slots, times on some records only.
  for (uint64_t id = 1; id <= 23; ++id) {
    const size_t size = id <= 8 ? 3000 - id * 100 : id % 4 * 7;
    Event e = event(id, size);
    want[eventRecordKey(e)] = {eventToJsonLine(e), e.system.time_created};
    batcher.onEvent(std::move(e));
  }
  batcher.flush(true);
  EXPECT_EQ(source_.enqueued, 23u);
  EXPECT_EQ(stored(), want);
  EXPECT_EQ(*queue_->checkpoint(stream_.name), std::optional<std::string>("complete"));
}

TEST_F(RecordBatcherTest, KeptBuffersStayWithinAFewBatches) {
  const BatchLimits limits{100, 16 * 1024};
  RecordBatcher batcher = make(limits);
  size_t most = 0;
  uint64_t id = 0;
  // Batches of small events, each ending with one large event, in a slot further on each time:
  // without a bound every slot would keep a large buffer.
  for (size_t batch = 0; batch < 60; ++batch) {
    for (size_t i = 0; i < batch % 60; ++i) batcher.onEvent(event(++id, 10));
    batcher.onEvent(event(++id, 12 * 1024));
    batcher.flush(false);
    most = std::max(most, batcher.keptBytes());
  }
  EXPECT_GT(most, limits.bytes);                                   // buffers are kept...
  EXPECT_LE(most, RecordBatcher::kMaxKeptBatches * limits.bytes);  // ...within the bound
  EXPECT_EQ(stored().size(), id);
}

// A channel or rule id that is not UTF-8 (a hostile or broken publisher, a rule file in another
// encoding) still gives keys the queue takes: the bad bytes become U+FFFD where the key is made,
// as they do in the event's JSON. Were the key kept as it is, the queue would refuse the batch
// and the source would stall.
TEST_F(RecordBatcherTest, KeysFromTextThatIsNotUtf8AreMadeValid) {
  RecordBatcher batcher = make(BatchLimits{100, 1 << 20});
  Event e = event(7, 10);
  e.system.channel = "Securit\x81y";
  Alert a;
  a.rule_id = "rule-\xC3";
  a.level = "high";
  a.event = std::make_shared<const Event>(e);
  batcher.onAlert(std::move(a));
  batcher.onEvent(std::move(e));
  batcher.flush(true);
  EXPECT_EQ(source_.enqueued, 1u);
  std::vector<std::string> keys;
  for (const auto& [key, value] : stored()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"Securit\xEF\xBF\xBDy|7",
                                            "alert|rule-\xEF\xBF\xBD|Securit\xEF\xBF\xBDy|7"}));
}

}  // namespace
}  // namespace t0w
