// The queue's embedded migrations (agent/queue/queue_migrations) through the Migrator: ordered and
// complete, an older file upgraded keeping its rows, a newer one refused.
#include "agent/queue/queue_migrations.h"

#include <gtest/gtest.h>

#include "agent/queue/chunk_codec.h"
#include "agent/queue/event_queue.h"
#include "common/sqlite/migrator.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/old_queue_rows.h"
#include "tests/support/queue_records.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

using namespace std::chrono_literals;
using testing::eventBatch;
using testing::FakeClock;
using testing::insertChunks;
using testing::queueFileAtVersion;
using testing::TempDir;

TEST(Migrator, EmbeddedMigrationsAreOrderedAndComplete) {
  const auto migrations = queueMigrations();
  ASSERT_GE(migrations.size(), 2u);
  for (size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i + 1)) << migrations[i].name;
    EXPECT_TRUE(migrations[i].sql.find("CREATE TABLE") != std::string_view::npos ||
                migrations[i].sql.find("ALTER TABLE") != std::string_view::npos)
        << migrations[i].name;
  }
  EXPECT_EQ(queueSchemaVersion(), static_cast<int>(migrations.size()));
}

TEST(Migrator, UpgradesAnOlderDatabaseKeepingItsRows) {
  TempDir dir;
  FakeClock clock;
  const auto path = dir.path() / "queue.db";
  const auto batch = eventBatch("Security", 1, 4);
  {
    // A queue file as version 1 of the agent left it: one chunk and a checkpoint.
    auto db = queueFileAtVersion(path, 1);
    ASSERT_TRUE(db.ok()) << db.error().toString();
    EXPECT_EQ(*db->queryInt("PRAGMA user_version", "v"), 1);
    EXPECT_EQ(*db->queryInt("SELECT count(*) FROM sqlite_master WHERE name = 'dead_letter'", "q"),
              0);
    insertChunks(*db, batch,
                 "INSERT INTO chunks(lane, source, record_count, raw_bytes, first_key, last_key, "
                 "created_ms, payload) VALUES(1, 'Security', 4, ?1, 'Security|1', 'Security|4', "
                 "0, ?2)");
    ASSERT_TRUE(db->exec("INSERT INTO checkpoints VALUES('Security', 'bm-4', 0)", "cp").ok());
  }
  QueueOptions o;
  o.path = path;
  auto q = EventQueue::open(o, clock);
  ASSERT_TRUE(q.ok()) << q.error().toString();
  EXPECT_FALSE((*q)->incident());
  EXPECT_EQ((*q)->checkpoint("Security")->value_or(""), "bm-4");
  auto lease = (*q)->reserve(10, 1 << 20, 30s);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->records, batch);
  ASSERT_TRUE((*q)->deadLetter(*lease, "exercise the v2 table").ok());
  EXPECT_EQ((*q)->stats()->dead_letter_chunks, 1u);
  q->reset();
  auto db = SqliteDb::open(path);
  EXPECT_EQ(*db->queryInt("PRAGMA user_version", "v"), queueSchemaVersion());
}

// Version 5 moved a chunk's lease state out of its row: a file of version 4 with a chunk leased
// and retried before the upgrade keeps that chunk and its counts, and ships it.
TEST(Migrator, LeaseStateOfVersion4ChunksMovesToItsOwnTable) {
  TempDir dir;
  FakeClock clock;
  const auto path = dir.path() / "queue.db";
  const auto batch = eventBatch("Security", 1, 4);
  {
    auto db = queueFileAtVersion(path, 4);
    ASSERT_TRUE(db.ok()) << db.error().toString();
    insertChunks(*db, batch,
                 "INSERT INTO chunks(lane, source, record_count, raw_bytes, first_key, last_key, "
                 "created_ms, lease_id, lease_expires_ms, retries, leases, payload) VALUES(1, "
                 "'Security', 4, ?1, 'Security|1', 'Security|4', 0, 7, 99, 2, 3, ?2), (1, "
                 "'Security', 4, ?1, 'Security|1', 'Security|4', 0, NULL, NULL, 0, 0, ?2)");
  }
  QueueOptions o;
  o.path = path;
  auto q = EventQueue::open(o, clock);
  ASSERT_TRUE(q.ok()) << q.error().toString();
  {
    auto db = SqliteDb::open(path);
    EXPECT_EQ(*db->queryInt("SELECT count(*) FROM chunk_leases", "q"), 1)
        << "a row only for the chunk that was ever leased";
    EXPECT_EQ(*db->queryInt("SELECT retries * 10 + leases FROM chunk_leases", "q"), 23);
    EXPECT_EQ(*db->queryInt("SELECT count(*) FROM chunk_leases WHERE lease_id IS NOT NULL", "q"), 0)
        << "leases of the process before the upgrade are expired at open";
  }
  auto lease = (*q)->reserve(100, 1 << 20, 30s);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->records.size(), 8u);
  EXPECT_EQ(*(*q)->ack(*lease), 8u);
  EXPECT_EQ((*q)->stats()->chunks, 0u);
  q->reset();
  auto db = SqliteDb::open(path);
  EXPECT_EQ(*db->queryInt("SELECT count(*) FROM chunk_leases", "q"), 0);
}

// Upgrading to version 5 with a backlog writes a few pages, not the backlog: the migration
// touches lease rows only (dropping the old columns would rewrite every chunk, up to the queue's
// 1 GiB, in one transaction).
TEST(Migrator, Version5UpgradeDoesNotRewriteTheChunks) {
  TempDir dir;
  auto db = queueFileAtVersion(dir.path() / "queue.db", 4);
  ASSERT_TRUE(db.ok()) << db.error().toString();
  ASSERT_EQ(*db->queryText("PRAGMA journal_mode=WAL", "wal"), "wal");
  for (int i = 0; i < 4; ++i) {
    insertChunks(*db, eventBatch("Security", 1 + 160 * i, 160, 4096),
                 "INSERT INTO chunks(lane, source, record_count, raw_bytes, first_key, last_key, "
                 "created_ms, payload) VALUES(1, 'Security', 160, ?1, 'k', 'k', 0, ?2)");
  }
  const auto walFrames = [&] {
    auto st = db->prepare("PRAGMA wal_checkpoint(PASSIVE)", "checkpoint");
    EXPECT_TRUE(st.ok());
    EXPECT_TRUE(st->step().ok());
    return st->columnInt(1);
  };
  const int64_t backlog_pages = walFrames();
  ASSERT_GE(backlog_pages, 300);
  ASSERT_TRUE(db->exec("PRAGMA wal_checkpoint(TRUNCATE)", "truncate").ok());
  ASSERT_TRUE(Migrator(queueMigrations()).migrate(*db).ok());
  EXPECT_LT(walFrames(), 30) << "backlog pages: " << backlog_pages;
  EXPECT_EQ(*db->queryInt("SELECT count(*) FROM chunks", "q"), 4);
}

TEST(Migrator, RefusesADatabaseFromANewerAgent) {
  TempDir dir;
  FakeClock clock;
  const auto path = dir.path() / "queue.db";
  {
    auto db = SqliteDb::open(path);
    ASSERT_TRUE(Migrator(queueMigrations()).migrate(*db).ok());
    ASSERT_TRUE(db->exec("PRAGMA user_version = 99", "bump").ok());
  }
  QueueOptions o;
  o.path = path;
  auto q = EventQueue::open(o, clock);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().code, Errc::kUnsupported);
  EXPECT_NE(q.error().message.find("99"), std::string::npos);
  // Not quarantined: a newer agent's data is left alone.
  auto db = SqliteDb::open(path);
  EXPECT_EQ(*db->queryInt("PRAGMA user_version", "v"), 99);
}

}  // namespace
}  // namespace t0w
