// `tier0watch status` reads the queue of a running agent: leased events before and after queue
// schema 5 moved a chunk's lease state out of its row (an agent upgraded but not restarted yet
// still has the old file).
#include "agent/cli/status_command.h"

#include <gtest/gtest.h>

#include <chrono>

#include "agent/queue/event_queue.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/old_queue_rows.h"
#include "tests/support/queue_records.h"
#include "tests/unit/cli/temp_dir.h"

namespace t0w::cli {
namespace {

using namespace std::chrono_literals;

TEST(StatusCommand, CountsLeasedEventsInTheLeaseTable) {
  testing::TempDir dir;
  t0w::testing::FakeClock clock;
  QueueOptions o;
  o.path = dir.path() / "queue.db";
  auto q = EventQueue::open(o, clock);
  ASSERT_TRUE(q.ok()) << q.error().toString();
  ASSERT_TRUE((*q)->enqueue(t0w::testing::eventBatch("Security", 1, 4), {"Security", "a"}).ok());
  ASSERT_TRUE((*q)->enqueue(t0w::testing::eventBatch("Security", 5, 3), {"Security", "b"}).ok());
  ASSERT_TRUE((*q)->reserve(4, 1 << 20, 30s).ok());  // the first chunk only
  auto st = readAgentStatus(dir.path(), 0);
  ASSERT_TRUE(st.ok()) << st.error().toString();
  EXPECT_EQ((*st)["queue"]["events"], 7u);
  EXPECT_EQ((*st)["queue"]["leased_events"], 4u);
}

TEST(StatusCommand, CountsLeasedEventsInAVersion4Queue) {
  testing::TempDir dir;
  const auto path = dir.path() / "queue.db";
  auto db = t0w::testing::queueFileAtVersion(path, 4);
  ASSERT_TRUE(db.ok()) << db.error().toString();
  t0w::testing::insertChunks(
      *db, t0w::testing::eventBatch("Security", 1, 4),
      "INSERT INTO chunks(lane, source, record_count, raw_bytes, first_key, last_key, "
      "created_ms, lease_id, lease_expires_ms, payload) VALUES(1, 'Security', 4, ?1, "
      "'Security|1', 'Security|4', 0, 7, 99, ?2), (1, 'Security', 4, ?1, 'Security|1', "
      "'Security|4', 0, NULL, NULL, ?2)");
  auto st = readAgentStatus(dir.path(), 0);
  ASSERT_TRUE(st.ok()) << st.error().toString();
  EXPECT_EQ((*st)["queue"]["events"], 8u);
  EXPECT_EQ((*st)["queue"]["leased_events"], 4u);
}

}  // namespace
}  // namespace t0w::cli
