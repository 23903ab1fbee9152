// QueueWriter with the real queue: a record the queue refuses by its shape is dropped, named and
// counted, and the rest of its batch is stored with the checkpoint (retrying it would stall the
// source for good).
#include "agent/pipeline/queue_writer.h"

#include <gtest/gtest.h>

#include <future>
#include <set>

#include "tests/fakes/fake_clock.h"
#include "tests/support/queue_records.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

TEST(QueueWriterTest, ARecordTheQueueRefusesIsDroppedAndTheRestStored) {
  t0w::testing::TempDir dir;
  t0w::testing::FakeClock clock;
  QueueOptions o;
  o.path = dir.path() / "queue.db";
  auto queue = EventQueue::open(o, clock);
  ASSERT_TRUE(queue) << queue.error().toString();
  AgentMetrics metrics;
  StopLatch stop;
  QueueWriter writer(**queue, metrics, nullptr, stop, std::chrono::milliseconds(10), nullptr);

  std::vector<QueueRecord> batch = t0w::testing::eventBatch("S", 1, 5);
  batch[1].key = "S|\x81|2";        // not UTF-8
  batch[3].body = "{\"a\":1}\n{}";  // two lines
  // Were the batch retried as it is, store() would never return: stopped after a while, it
  // returns false and the test fails instead of hanging.
  auto stored = std::async(std::launch::async, [&] {
    return writer.store(batch, Checkpoint{"S", "offset:5"}, nullptr);
  });
  if (stored.wait_for(std::chrono::seconds(20)) != std::future_status::ready) stop.stop();
  ASSERT_TRUE(stored.get()) << "the batch was retried instead of stored";

  EXPECT_EQ(metrics.dropped_invalid, 2u);
  EXPECT_EQ(metrics.enqueue_errors, 0u);
  EXPECT_EQ(metrics.enqueued_records, 3u);
  EXPECT_EQ(*(*queue)->checkpoint("S"), std::optional<std::string>("offset:5"));
  auto lease = (*queue)->reserve(100, 1 << 20, std::chrono::seconds(60));
  ASSERT_TRUE(lease) << lease.error().toString();
  std::set<std::string> keys;
  for (const auto& r : lease->records) keys.insert(r.key);
  EXPECT_EQ(keys, (std::set<std::string>{"S|1", "S|3", "S|5"}));
}

}  // namespace
}  // namespace t0w
