// Pipeline with the real queue and the real XML collector: records and checkpoint stored
// together, resume after the last stored record, pause_sources waits without dropping.
#include "agent/pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "agent/queue/chunk_codec.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/queue_records.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

std::string eventXml(int record_id) {
  return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
         "<Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4624</EventID>"
         "<TimeCreated SystemTime='2024-05-14T08:00:00.0000000Z'/>"
         "<EventRecordID>" +
         std::to_string(record_id) +
         "</EventRecordID><Channel>Security</Channel><Computer>DC01</Computer></System>"
         "<EventData><Data Name='TargetUserName'>user" +
         std::to_string(record_id) + "</Data></EventData></Event>\n";
}

SourceConfig xmlSource(const std::filesystem::path& path) {
  SourceConfig s;
  s.type = SourceType::kXml;
  s.path = path;
  return s;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    xml_ = dir_.path() / "events.xml";
    // Binary: the offsets below count "\n" line ends (Windows text mode would write "\r\n").
    std::ofstream out(xml_, std::ios::binary);
    for (int i = 1; i <= 25; ++i) out << eventXml(i);
  }

  std::unique_ptr<EventQueue> openQueue(OverflowPolicy policy = OverflowPolicy::kDropOldest,
                                        uint64_t max_bytes = 1 << 30) {
    QueueOptions o;
    o.path = dir_.path() / "queue.db";
    o.overflow = policy;
    o.max_bytes = max_bytes;
    auto q = EventQueue::open(o, clock_);
    EXPECT_TRUE(q) << q.error().toString();
    return q ? std::move(*q) : nullptr;
  }

  std::set<std::string> drainKeys(EventQueue& q) {
    std::set<std::string> keys;
    for (;;) {
      auto lease = q.reserve(1000, 1 << 30, std::chrono::seconds(60));
      EXPECT_TRUE(lease);
      if (!lease || lease->empty()) break;
      for (const auto& r : lease->records) keys.insert(r.key);
      EXPECT_TRUE(q.ack(*lease));
    }
    return keys;
  }

  void runToEnd(EventQueue& q, PipelineOptions options, size_t* notified = nullptr) {
    Pipeline p(
        {xmlSource(xml_)}, q, nullptr, metrics_,
        [notified](size_t n, size_t) {
          if (notified) *notified += n;
        },
        options);
    p.start();
    p.join();
  }

  t0w::testing::TempDir dir_;
  t0w::testing::FakeClock clock_;
  AgentMetrics metrics_;
  std::filesystem::path xml_;
};

TEST_F(PipelineTest, StoresEveryEventWithItsCheckpoint) {
  auto q = openQueue();
  size_t notified = 0;
  PipelineOptions o;
  o.batch.events = 10;
  runToEnd(*q, o, &notified);
  EXPECT_EQ(notified, 25u);
  EXPECT_EQ(*q->checkpoint(xml_.string()), std::optional<std::string>("complete"));
  const auto keys = drainKeys(*q);
  EXPECT_EQ(keys.size(), 25u);
  EXPECT_TRUE(keys.contains("Security|1"));
  EXPECT_TRUE(keys.contains("Security|25"));
  EXPECT_EQ(metrics_.source(xml_.string()).enqueued, 25u);
}

TEST_F(PipelineTest, ResumesAfterTheLastStoredRecord) {
  auto q = openQueue();
  // A previous run stored the events up to the 10th element (its byte offset).
  std::string line = eventXml(1);
  uint64_t offset_of_10th = 0;
  for (int i = 1; i < 10; ++i) offset_of_10th += eventXml(i).size();
  ASSERT_TRUE(
      q->enqueue({}, Checkpoint{xml_.string(), "offset:" + std::to_string(offset_of_10th)}));
  runToEnd(*q, PipelineOptions{});
  const auto keys = drainKeys(*q);
  EXPECT_EQ(keys.size(), 15u);
  EXPECT_FALSE(keys.contains("Security|10"));
  EXPECT_TRUE(keys.contains("Security|11"));
  EXPECT_EQ(metrics_.source(xml_.string()).skipped_resume, 10u);
  // A completed file is not read again.
  runToEnd(*q, PipelineOptions{});
  EXPECT_TRUE(drainKeys(*q).empty());
}

TEST_F(PipelineTest, PauseSourcesWaitsAndStopStoresNothingPastTheCheckpoint) {
  auto q = openQueue(OverflowPolicy::kPauseSources, 64 * 1024);
  // Fill the queue to the last few hundred bytes so that the next batch does not fit.
  uint64_t n = 0;
  for (size_t size : {50, 1}) {
    for (;;) {
      auto r =
          q->enqueue(t0w::testing::eventBatch("filler", n, size, 1000), Checkpoint{"filler", "x"});
      ASSERT_TRUE(r) << r.error().toString();
      if (!r->stored()) break;
      n += size;
    }
  }
  PipelineOptions o;
  o.full_retry = std::chrono::milliseconds(1);
  Pipeline p({xmlSource(xml_)}, *q, nullptr, metrics_, nullptr, o);
  p.start();
  // Bounded wait for the collector to hit the full queue, then stop it.
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (metrics_.source(xml_.string()).pause_waits == 0 &&
         std::chrono::steady_clock::now() < limit) {
    std::this_thread::yield();
  }
  EXPECT_GT(metrics_.source(xml_.string()).pause_waits, 0u);
  p.stop();
  p.join();
  EXPECT_FALSE(*q->checkpoint(xml_.string()));  // nothing stored, nothing skipped next time
  EXPECT_EQ(q->stats()->drops.size(), 0u);      // and nothing dropped
}

TEST(PipelineKeyTest, ChannelRecordIdOrSourcePosition) {
  Event e;
  e.origin = {"f.evtx", 7, {}};
  EXPECT_EQ(eventRecordKey(e), "f.evtx|7");
  e.system.channel = "Security";
  e.system.record_id = 42;
  EXPECT_EQ(eventRecordKey(e), "Security|42");
}

}  // namespace
}  // namespace t0w
