#include "agent/queue/event_queue.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "agent/queue/chunk_codec.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_random.h"
#include "tests/support/queue_records.h"
#include "tests/support/temp_dir.h"

namespace t0w {
namespace {

using namespace std::chrono_literals;
using testing::alertRecord;
using testing::eventBatch;
using testing::eventRecord;
using testing::FakeClock;
using testing::TempDir;

// A second connection to the same file, as a test instrument (triggers, direct reads).
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    EXPECT_EQ(sqlite3_open(path.string().c_str(), &db_), SQLITE_OK);
  }
  ~RawDb() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
  }
  int64_t queryInt(const std::string& sql, int column = 0) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, column);
    sqlite3_finalize(st);
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
};

class EventQueueTest : public ::testing::Test {
 protected:
  QueueOptions options() const {
    QueueOptions o;
    o.path = dir_.path() / "queue.db";
    return o;
  }
  std::unique_ptr<EventQueue> open(QueueOptions o) {
    auto q = EventQueue::open(std::move(o), clock_);
    EXPECT_TRUE(q.ok()) << (q.ok() ? "" : q.error().toString());
    return q.ok() ? std::move(*q) : nullptr;
  }
  std::unique_ptr<EventQueue> open() { return open(options()); }

  // Reserves and acks until empty; returns every record in shipping order.
  std::vector<QueueRecord> drain(EventQueue& q) {
    std::vector<QueueRecord> out;
    for (;;) {
      auto lease = q.reserve(1000, 1 << 20, 60s);
      EXPECT_TRUE(lease.ok());
      if (!lease.ok() || lease->empty()) break;
      out.insert(out.end(), lease->records.begin(), lease->records.end());
      auto acked = q.ack(*lease);
      EXPECT_TRUE(acked.ok());
      EXPECT_EQ(*acked, lease->records.size());
    }
    return out;
  }

  TempDir dir_;
  FakeClock clock_;
};

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::vector<std::string> keys(const std::vector<QueueRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.key);
  return out;
}

TEST_F(EventQueueTest, StoresRecordsAndCheckpointThenShipsInOrder) {
  auto q = open();
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->incident());
  auto batch1 = eventBatch("Security", 1, 5);
  auto batch2 = eventBatch("Security", 6, 5);
  auto r1 = q->enqueue(batch1, {"Security", "bookmark-5"});
  ASSERT_TRUE(r1.ok()) << r1.error().toString();
  EXPECT_TRUE(r1->stored());
  ASSERT_TRUE(q->enqueue(batch2, {"Security", "bookmark-10"}).ok());

  auto cp = q->checkpoint("Security");
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->value_or(""), "bookmark-10");
  EXPECT_FALSE(q->checkpoint("System")->has_value());

  auto lease = q->reserve(100, 1 << 20, 30s);
  ASSERT_TRUE(lease.ok()) << lease.error().toString();
  ASSERT_EQ(lease->records.size(), 10u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(lease->records[i], batch1[i]);
    EXPECT_EQ(lease->records[5 + i], batch2[i]);
  }
  EXPECT_GT(lease->id, 0);
  auto acked = q->ack(*lease);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 10u);
  auto st = q->stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->events, 0u);
  EXPECT_EQ(st->stored_bytes, 0u);
  EXPECT_TRUE(q->reserve(100, 1 << 20, 30s)->empty());
  // The checkpoint outlives the rows it covered.
  EXPECT_EQ(q->checkpoint("Security")->value_or(""), "bookmark-10");
}

TEST_F(EventQueueTest, EmptyBatchAdvancesCheckpointOnly) {
  auto q = open();
  ASSERT_TRUE(q->enqueue({}, {"Security", "bm-1"}).ok());
  EXPECT_EQ(q->checkpoint("Security")->value_or(""), "bm-1");
  EXPECT_EQ(q->stats()->events, 0u);
}

TEST_F(EventQueueTest, FailedCheckpointWriteRollsBackTheRecords) {
  auto q = open();
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 3), {"Security", "bm-3"}).ok());
  {
    RawDb raw(options().path);
    raw.exec(
        "CREATE TRIGGER fail_cp_update BEFORE UPDATE ON checkpoints BEGIN "
        "SELECT RAISE(ABORT, 'injected checkpoint failure'); END;"
        "CREATE TRIGGER fail_cp_insert BEFORE INSERT ON checkpoints BEGIN "
        "SELECT RAISE(ABORT, 'injected checkpoint failure'); END;");
  }
  auto batch = eventBatch("Security", 4, 3);
  batch.push_back(alertRecord("r1"));
  auto r = q->enqueue(batch, {"Security", "bm-6"});
  ASSERT_FALSE(r.ok());
  // The error names the file and the SQL operation.
  EXPECT_NE(r.error().message.find("store checkpoint"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("queue.db"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("injected checkpoint failure"), std::string::npos);
  EXPECT_EQ(q->checkpoint("Security")->value_or(""), "bm-3");
  auto st = q->stats();
  EXPECT_EQ(st->events, 3u);  // the 3 events and the alert of the failed batch are not stored
  EXPECT_EQ(st->priority_events, 0u);
  // The queue keeps working once the fault is gone.
  RawDb(options().path).exec("DROP TRIGGER fail_cp_update; DROP TRIGGER fail_cp_insert;");
  ASSERT_TRUE(q->enqueue(batch, {"Security", "bm-6"}).ok());
  EXPECT_EQ(q->checkpoint("Security")->value_or(""), "bm-6");
  EXPECT_EQ(keys(drain(*q)).size(), 7u);
}

TEST_F(EventQueueTest, FailedSecondChunkInsertLeavesNothingBehind) {
  QueueOptions o = options();
  o.max_chunk_records = 2;
  auto q = open(o);
  // Fails on the third chunk only (ids 1 and 2 are inserted first in the same transaction).
  RawDb(o.path).exec(
      "CREATE TRIGGER fail_third BEFORE INSERT ON chunks WHEN "
      "(SELECT count(*) FROM chunks) >= 2 BEGIN SELECT RAISE(ABORT, 'disk gone'); END;");
  auto r = q->enqueue(eventBatch("Security", 1, 6), {"Security", "bm-6"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("insert chunk"), std::string::npos) << r.error().message;
  EXPECT_FALSE(q->checkpoint("Security")->has_value());
  EXPECT_EQ(q->stats()->chunks, 0u);
  EXPECT_EQ(RawDb(o.path).queryInt("SELECT count(*) FROM chunks"), 0);
}

TEST_F(EventQueueTest, InvalidRecordIsRefusedWithoutSideEffects) {
  auto q = open();
  auto batch = eventBatch("Security", 1, 2);
  batch[1].body = "not json";
  auto r = q->enqueue(batch, {"Security", "bm"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_NE(r.error().message.find("Security|2"), std::string::npos);
  EXPECT_FALSE(q->checkpoint("Security")->has_value());
  EXPECT_FALSE(q->enqueue({}, {"", "bm"}).ok());
}

TEST_F(EventQueueTest, ReleaseMakesRowsShippableAgainAndCountsRetries) {
  auto q = open();
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 4), {"Security", "bm"}).ok());
  auto first = q->reserve(100, 1 << 20, 30s);
  ASSERT_EQ(first->records.size(), 4u);
  EXPECT_TRUE(q->reserve(100, 1 << 20, 30s)->empty()) << "leased rows must not ship twice";
  EXPECT_EQ(q->stats()->leased_events, 4u);

  ASSERT_TRUE(q->release(*first, true).ok());
  EXPECT_EQ(q->stats()->leased_events, 0u);
  auto second = q->reserve(100, 1 << 20, 30s);
  ASSERT_EQ(second->records, first->records);
  EXPECT_GT(second->id, first->id);
  ASSERT_TRUE(q->release(*second, false).ok());
  EXPECT_EQ(RawDb(options().path).queryInt("SELECT sum(retries) FROM chunk_leases"), 1);
  // The old lease no longer owns anything.
  EXPECT_EQ(*q->ack(*first), 0u);
  EXPECT_EQ(q->stats()->events, 4u);
}

// A chunk's payload is written once, when it is stored: leasing it and acking it write a few
// pages of bookkeeping, not its payload again (an UPDATE of the chunk's own row rewrote all of
// it, and zeroing its freed pages wrote it a third time: issue 14).
TEST_F(EventQueueTest, LeaseAndAckDoNotWriteThePayloadAgain) {
  auto q = open();
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 160, 4096), {"Security", "bm"}).ok());
  const int64_t payload_pages = static_cast<int64_t>(q->stats()->stored_bytes / 4096);
  ASSERT_GE(payload_pages, 60) << "the payload must span many pages for this test to mean much";
  RawDb raw(options().path);
  // WAL frames written since the last checkpoint that emptied the log.
  const auto frames_since = [&](auto&& step) {
    raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    step();
    return raw.queryInt("PRAGMA wal_checkpoint(PASSIVE)", 1);
  };
  Lease lease;
  const int64_t lease_frames = frames_since([&] {
    auto l = q->reserve(100, 1 << 20, 30s, LeaseContent::kStoredChunks);
    ASSERT_TRUE(l.ok());
    lease = std::move(*l);
  });
  ASSERT_EQ(lease.record_count, 160u);
  const int64_t ack_frames = frames_since([&] { ASSERT_EQ(*q->ack(lease), 160u); });
  EXPECT_LT(lease_frames, payload_pages / 4) << "payload pages: " << payload_pages;
  EXPECT_LT(ack_frames, payload_pages / 4) << "payload pages: " << payload_pages;
  EXPECT_EQ(q->stats()->chunks, 0u);
  EXPECT_EQ(raw.queryInt("SELECT count(*) FROM chunk_leases"), 0) << "the lease row goes too";
}

TEST_F(EventQueueTest, ReserveHonoursLimitsOnChunkBoundaries) {
  QueueOptions o = options();
  o.max_chunk_records = 10;
  auto q = open(o);
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 35), {"Security", "bm"}).ok());
  auto a = q->reserve(25, 1 << 20, 30s);
  EXPECT_EQ(a->records.size(), 20u);  // two chunks of 10; a third would pass 25
  EXPECT_EQ(a->chunk_ids.size(), 2u);
  auto b = q->reserve(5, 1 << 20, 30s);
  EXPECT_EQ(b->records.size(), 10u) << "one whole chunk even when larger than the limit";
  auto c = q->reserve(1000, 1, 30s);
  EXPECT_EQ(c->records.size(), 5u);
  EXPECT_EQ(c->records.front().key, "Security|31");
}

TEST_F(EventQueueTest, LeaseExpiresWithTheInjectedClock) {
  auto q = open();
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 3), {"Security", "bm"}).ok());
  auto first = q->reserve(100, 1 << 20, 30s);
  ASSERT_EQ(first->records.size(), 3u);
  clock_.advance(29s);
  EXPECT_TRUE(q->reserve(100, 1 << 20, 30s)->empty());
  clock_.advance(1s);
  auto second = q->reserve(100, 1 << 20, 30s);
  ASSERT_EQ(second->records, first->records) << "expired lease: rows ship again";
  // A late ack of the expired lease must not delete rows the new lease holds.
  EXPECT_EQ(*q->ack(*first), 0u);
  EXPECT_EQ(*q->ack(*second), 3u);
  EXPECT_EQ(q->stats()->events, 0u);
}

TEST_F(EventQueueTest, CrashWithoutAckShipsRowsAgainAfterReopen) {
  Lease lost;
  {
    auto q = open();
    ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 3), {"Security", "bm-3"}).ok());
    ASSERT_TRUE(q->enqueue({alertRecord("a")}, {"Security", "bm-3"}).ok());
    auto lease = q->reserve(100, 1 << 20, 1h);
    ASSERT_EQ(lease->records.size(), 4u);
    lost = *lease;
    // The process dies here: no ack, no release.
  }
  auto q = open();
  auto again = q->reserve(100, 1 << 20, 1h);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->records, lost.records);
  EXPECT_GT(again->id, lost.id) << "lease ids keep growing across restarts";
  EXPECT_EQ(q->checkpoint("Security")->value_or(""), "bm-3");
}

TEST_F(EventQueueTest, PriorityLaneShipsBeforeTheEventBacklog) {
  QueueOptions o = options();
  o.max_chunk_records = 5;
  auto q = open(o);
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 10), {"Security", "bm-10"}).ok());
  std::vector<QueueRecord> mixed = eventBatch("System", 1, 2);
  mixed.push_back(alertRecord("r1"));
  mixed.push_back(alertRecord("r2"));
  ASSERT_TRUE(q->enqueue(mixed, {"System", "bm-2"}).ok());
  EXPECT_EQ(q->stats()->priority_events, 2u);
  auto lease = q->reserve(2, 1 << 20, 30s);
  EXPECT_EQ(keys(lease->records), (std::vector<std::string>{"alert|r1", "alert|r2"}));
  auto rest = drain(*q);
  std::vector<std::string> expected;
  for (int i = 1; i <= 10; ++i) expected.push_back("Security|" + std::to_string(i));
  expected.push_back("System|1");
  expected.push_back("System|2");
  EXPECT_EQ(keys(rest), expected);
}

// Drains the queue and checks that the drop reports account exactly for the missing events.
TEST_F(EventQueueTest, DropOldestCountsExactlyWhatIsMissing) {
  QueueOptions o = options();
  o.max_chunk_records = 10;
  o.max_bytes = 40 * 1024;
  o.overflow = OverflowPolicy::kDropOldest;
  auto q = open(o);
  uint64_t dropped_total = 0;
  std::map<std::string, uint64_t> sent;
  for (int b = 0; b < 60; ++b) {
    const std::string source = b % 3 == 0 ? "System" : "Security";
    const uint64_t first = sent[source] + 1;
    auto r = q->enqueue(eventBatch(source, first, 10, 200),
                        {source, "pos-" + std::to_string(first + 9)});
    ASSERT_TRUE(r.ok()) << r.error().toString();
    ASSERT_TRUE(r->stored());
    dropped_total += r->dropped_events;
    sent[source] += 10;
    EXPECT_LE(q->stats()->stored_bytes, o.max_bytes + 512);
  }
  ASSERT_GT(dropped_total, 0u) << "the test must overflow the cap";
  auto st = q->stats();
  ASSERT_TRUE(st.ok());
  const auto received = drain(*q);

  std::set<std::string> got;
  std::map<std::string, uint64_t> reported;
  std::vector<std::pair<std::string, std::string>> ranges;
  for (const auto& r : received) {
    if (r.kind == RecordKind::kStatus) {
      auto body = nlohmann::json::parse(r.body);
      EXPECT_EQ(body["type"], "queue_drop");
      // The key names this queue file's epoch: a new file's report #1 is not the old one's.
      EXPECT_EQ(r.key.rfind("queue|drop|" + q->epoch() + "|", 0), 0u) << r.key;
      reported[body["source"]] += body["dropped_events"].get<uint64_t>();
      ranges.emplace_back(body["first_key"], body["last_key"]);
      EXPECT_NE(body["message"].get<std::string>().find("dropped "), std::string::npos);
    } else {
      got.insert(r.key);
    }
  }
  uint64_t missing_total = 0;
  for (const auto& [source, n] : sent) {
    uint64_t missing = 0;
    for (uint64_t i = 1; i <= n; ++i) {
      const std::string key = source + "|" + std::to_string(i);
      if (got.count(key)) continue;
      ++missing;
      // Every missing key lies in a reported range of its source.
      const bool covered = std::any_of(ranges.begin(), ranges.end(), [&](const auto& rg) {
        auto num = [](const std::string& k) { return std::stoull(k.substr(k.find('|') + 1)); };
        return rg.first.rfind(source + "|", 0) == 0 && num(rg.first) <= i && i <= num(rg.second);
      });
      EXPECT_TRUE(covered) << key;
    }
    EXPECT_EQ(reported[source], missing) << source;
    EXPECT_EQ(st->drops[source].events, missing) << source;
    missing_total += missing;
  }
  EXPECT_EQ(missing_total, dropped_total);
  EXPECT_EQ(ranges.size(), 2u) << "unsent reports are merged: one per source";
  // The newest batch always survives and the checkpoints are the last ones written.
  EXPECT_TRUE(got.count("Security|400"));
  EXPECT_EQ(st->checkpoints["Security"], "pos-400");
  EXPECT_EQ(st->checkpoints["System"], "pos-200");
}

TEST_F(EventQueueTest, DropOldestAcrossManySourcesStaysUnderTheCap) {
  QueueOptions o = options();
  o.max_chunk_records = 5;
  o.max_bytes = 16 * 1024;
  auto q = open(o);
  std::map<std::string, uint64_t> sent;
  for (int round = 0; round < 6; ++round) {
    for (int s = 0; s < 30; ++s) {
      const std::string source = "file-" + std::to_string(s);
      auto r = q->enqueue(eventBatch(source, sent[source] + 1, 5, 100), {source, "p"});
      ASSERT_TRUE(r.ok()) << r.error().toString();
      ASSERT_TRUE(r->stored());
      sent[source] += 5;
      ASSERT_LE(q->stats()->stored_bytes, o.max_bytes);
    }
  }
  auto st = q->stats();
  std::map<std::string, uint64_t> got;
  std::map<std::string, uint64_t> reported;
  for (const auto& r : drain(*q)) {
    if (r.kind == RecordKind::kStatus) {
      auto body = nlohmann::json::parse(r.body);
      reported[body["source"]] += body["dropped_events"].get<uint64_t>();
    } else {
      ++got[r.key.substr(0, r.key.find('|'))];
    }
  }
  uint64_t total_missing = 0;
  for (const auto& [source, n] : sent) {
    EXPECT_EQ(reported[source], n - got[source]) << source;
    EXPECT_EQ(st->drops[source].events, n - got[source]) << source;
    total_missing += n - got[source];
  }
  EXPECT_GT(total_missing, 0u);
}

TEST_F(EventQueueTest, DropOldestNeverDropsLeasedRows) {
  QueueOptions o = options();
  o.max_chunk_records = 10;
  o.max_bytes = 8 * 1024;
  auto q = open(o);
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 10, 200), {"Security", "p10"}).ok());
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 11, 10, 200), {"Security", "p20"}).ok());
  auto lease = q->reserve(1000, 1 << 20, 30s);
  ASSERT_EQ(lease->records.size(), 20u);
  uint64_t dropped = 0;
  for (uint64_t first = 21; first < 300; first += 10) {
    auto r = q->enqueue(eventBatch("Security", first, 10, 200), {"Security", "px"});
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->stored());
    dropped += r->dropped_events;
  }
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(*q->ack(*lease), 20u) << "leased rows are never dropped";
}

TEST_F(EventQueueTest, DropReportOfferedToTheCollectorIsNotRewritten) {
  QueueOptions o = options();
  o.max_chunk_records = 10;
  o.max_bytes = 8 * 1024;
  auto q = open(o);
  uint64_t next = 1;
  auto overflow = [&](int batches) {
    uint64_t dropped = 0;
    for (int i = 0; i < batches; ++i, next += 10) {
      auto r = q->enqueue(eventBatch("Security", next, 10, 200), {"Security", "p"});
      EXPECT_TRUE(r.ok() && r->stored());
      dropped += r->dropped_events;
    }
    return dropped;
  };
  const uint64_t first_drops = overflow(12);
  ASSERT_GT(first_drops, 0u);
  auto report1 = q->reserve(1, 1 << 20, 30s);  // the priority lane holds just the report
  ASSERT_EQ(report1->records.size(), 1u);
  ASSERT_EQ(report1->records[0].kind, RecordKind::kStatus);
  EXPECT_EQ(nlohmann::json::parse(report1->records[0].body)["dropped_events"], first_drops);
  // The upload fails after the collector may have stored it; the report must stay as sent.
  ASSERT_TRUE(q->release(*report1, false).ok());
  const uint64_t second_drops = overflow(12);
  ASSERT_GT(second_drops, 0u);
  auto reports = q->reserve(2, 1 << 20, 30s);
  ASSERT_EQ(reports->records.size(), 2u);
  EXPECT_EQ(reports->records[0], report1->records[0]);
  EXPECT_EQ(nlohmann::json::parse(reports->records[1].body)["dropped_events"], second_drops);
  EXPECT_EQ(q->stats()->drops["Security"].events, first_drops + second_drops);
}

TEST_F(EventQueueTest, DropOldestRefusesWhenOnlyLeasedRowsCouldMakeRoom) {
  uint64_t one_batch = 0;
  {
    auto q = open();
    ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 10, 200), {"Security", "p10"}).ok());
    one_batch = q->stats()->stored_bytes;
  }
  QueueOptions o = options();
  o.max_chunk_records = 10;
  o.max_bytes = one_batch * 3 + one_batch / 2;
  auto q = open(o);
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 11, 10, 200), {"Security", "p20"}).ok());
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 21, 10, 200), {"Security", "p30"}).ok());
  auto lease = q->reserve(1000, 1 << 20, 30s);
  ASSERT_EQ(lease->records.size(), 30u);
  auto r = q->enqueue(eventBatch("Security", 31, 10, 200), {"Security", "p40"});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->stored());
  EXPECT_EQ(r->dropped_events, 0u);
  EXPECT_EQ(q->checkpoint("Security")->value_or(""), "p30");
  EXPECT_TRUE(q->stats()->drops.empty());
  // Once the lease expires its rows are droppable again.
  clock_.advance(31s);
  auto later = q->enqueue(eventBatch("Security", 31, 10, 200), {"Security", "p40"});
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->stored());
  EXPECT_EQ(later->dropped_events, 10u);
}

TEST_F(EventQueueTest, PauseSourcesRefusesWithoutDroppingAndResumesAfterDrain) {
  QueueOptions o = options();
  o.max_chunk_records = 10;
  o.max_bytes = 20 * 1024;
  o.overflow = OverflowPolicy::kPauseSources;
  auto q = open(o);
  uint64_t next = 1;
  int full_at = -1;
  for (int b = 0; b < 100; ++b) {
    auto r = q->enqueue(eventBatch("Security", next, 10, 200),
                        {"Security", "pos-" + std::to_string(next + 9)});
    ASSERT_TRUE(r.ok());
    if (!r->stored()) {
      full_at = b;
      break;
    }
    EXPECT_EQ(r->dropped_events, 0u);
    next += 10;
  }
  ASSERT_GT(full_at, 0) << "the cap must be reached";
  // The refused batch left no trace: checkpoint still at the last stored batch.
  EXPECT_EQ(q->checkpoint("Security")->value_or(""), "pos-" + std::to_string(next - 1));
  auto st = q->stats();
  EXPECT_TRUE(st->drops.empty());
  EXPECT_LE(st->stored_bytes, o.max_bytes);
  const auto shipped = drain(*q);
  ASSERT_EQ(shipped.size(), next - 1);
  for (uint64_t i = 1; i < next; ++i)
    EXPECT_EQ(shipped[i - 1].key, "Security|" + std::to_string(i));
  // The collector retries the same batch; it fits now.
  auto retry = q->enqueue(eventBatch("Security", next, 10, 200), {"Security", "pos-retry"});
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->stored());
}

TEST_F(EventQueueTest, BatchLargerThanTheCapIsAnError) {
  QueueOptions o = options();
  o.max_bytes = 1024;
  auto q = open(o);
  auto r = q->enqueue(eventBatch("Security", 1, 50, 200), {"Security", "p"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kLimit);
}

TEST_F(EventQueueTest, DeadLetterIsBoundedAndCountsPrunedEntries) {
  QueueOptions o = options();
  o.max_dead_letters = 3;
  auto q = open(o);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(q->enqueue(eventBatch("Security", i * 10 + 1, 2), {"Security", "p"}).ok());
    auto lease = q->reserve(2, 1 << 20, 30s);
    ASSERT_EQ(lease->records.size(), 2u);
    ASSERT_TRUE(q->deadLetter(*lease, "HTTP 400: schema rejected").ok());
  }
  auto st = q->stats();
  EXPECT_EQ(st->events, 0u);
  EXPECT_EQ(st->stored_bytes, 0u);
  EXPECT_EQ(st->dead_letter_chunks, 3u);
  EXPECT_EQ(st->dead_letter_pruned_chunks, 2u);
  EXPECT_EQ(st->dead_letter_pruned_events, 4u);
  auto entries = q->deadLetters(10);
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].first_key, "Security|21") << "the oldest were pruned";
  EXPECT_EQ((*entries)[2].last_key, "Security|42");
  EXPECT_EQ((*entries)[0].reason, "HTTP 400: schema rejected");
}

TEST_F(EventQueueTest, DamagedChunkIsDeadLetteredAndTheRestShips) {
  QueueOptions o = options();
  o.max_chunk_records = 2;
  auto q = open(o);
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 6), {"Security", "p"}).ok());
  RawDb(o.path).exec("UPDATE chunks SET payload = x'789c0000deadbeef' WHERE id = 2");
  const auto shipped = drain(*q);
  EXPECT_EQ(keys(shipped),
            (std::vector<std::string>{"Security|1", "Security|2", "Security|5", "Security|6"}));
  auto st = q->stats();
  EXPECT_EQ(st->corrupt_chunks, 1u);
  EXPECT_EQ(st->dead_letter_chunks, 1u);
  EXPECT_EQ(st->stored_bytes, 0u);
  auto entries = q->deadLetters(10);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_NE((*entries)[0].reason.find("corrupt chunk"), std::string::npos);
}

// A damaged stored chunk is dead-lettered alone when leased to be sent as stored: found by the
// CRC-32 kept with its row, or, for a row written before there was one (schema 3), by decoding
// its frame for the content checksum.
TEST_F(EventQueueTest, StoredChunkLeasesAreCheckedNotDecoded) {
  struct Case {
    bool crc_kept;
    const char* reason;
  };
  for (const Case& c : {Case{true, "CRC-32"}, Case{false, "zstd"}}) {
    SCOPED_TRACE(c.crc_kept ? "CRC kept with the row" : "row without a CRC");
    QueueOptions o = options();
    o.path = o.path.parent_path() / (c.crc_kept ? "crc.db" : "nocrc.db");
    o.max_chunk_records = 2;
    auto q = open(o);
    ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 6), {"Security", "p"}).ok());
    if (!c.crc_kept) RawDb(o.path).exec("UPDATE chunks SET payload_crc = NULL");
    // Flip one byte inside the second chunk's frame: neither its CRC nor its checksum holds.
    RawDb(o.path).exec(
        "UPDATE chunks SET payload = CAST(substr(payload, 1, 20) || "
        "CASE WHEN substr(payload, 21, 1) = x'5a' THEN x'a5' ELSE x'5a' END || "
        "substr(payload, 22) AS BLOB) WHERE id = 2");
    auto lease = q->reserve(100, 1 << 20, std::chrono::seconds(60), LeaseContent::kStoredChunks);
    ASSERT_TRUE(lease.ok()) << lease.error().toString();
    EXPECT_TRUE(lease->records.empty());
    ASSERT_EQ(lease->chunks.size(), 2u);
    EXPECT_EQ(lease->record_count, 4u);
    for (const LeasedChunk& chunk : lease->chunks) {
      EXPECT_TRUE(isWireChunk(chunk.payload));
      EXPECT_EQ(chunk.records, 2u);
    }
    auto records = decodeLease(*lease);
    ASSERT_TRUE(records.ok()) << records.error().toString();
    EXPECT_EQ(keys(*records),
              (std::vector<std::string>{"Security|1", "Security|2", "Security|5", "Security|6"}));
    EXPECT_EQ(q->stats()->corrupt_chunks, 1u);
    auto dead = q->deadLetters(10);
    ASSERT_EQ(dead->size(), 1u);
    EXPECT_NE((*dead)[0].reason.find(c.reason), std::string::npos) << (*dead)[0].reason;
    EXPECT_EQ(*q->ack(*lease), 4u);
  }
}

TEST_F(EventQueueTest, ChunksOfAnOlderAgentShipAfterTheUpgrade) {
  QueueOptions o = options();
  auto q = open(o);
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 3), {"Security", "p"}).ok());
  // What an agent before 0.5 stored: the zlib framed format.
  auto v1 = encodeChunkV1(eventBatch("Security", 1, 3), 6);
  ASSERT_TRUE(v1.ok());
  {
    RawDb db(o.path);
    db.exec("UPDATE chunks SET payload = x'" + hex(v1->payload) +
            "', raw_bytes = " + std::to_string(v1->raw_bytes));
  }
  q.reset();
  q = open(o);
  auto lease = q->reserve(100, 1 << 20, std::chrono::seconds(60), LeaseContent::kStoredChunks);
  ASSERT_TRUE(lease.ok()) << lease.error().toString();
  ASSERT_EQ(lease->chunks.size(), 1u);
  EXPECT_FALSE(isWireChunk(lease->chunks[0].payload));
  auto records = decodeLease(*lease);
  ASSERT_TRUE(records.ok()) << records.error().toString();
  EXPECT_EQ(*records, eventBatch("Security", 1, 3));
}

TEST_F(EventQueueTest, ConcurrentReservesReturnDisjointRows) {
  QueueOptions o = options();
  o.max_chunk_records = 3;
  auto q = open(o);
  for (int b = 0; b < 40; ++b) {
    ASSERT_TRUE(q->enqueue(eventBatch("Security", b * 9 + 1, 9), {"Security", "p"}).ok());
  }
  std::vector<std::vector<std::string>> seen(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (;;) {
        auto lease = q->reserve(6, 1 << 20, 1h);
        if (!lease.ok() || lease->empty()) break;
        for (const auto& r : lease->records) seen[t].push_back(r.key);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::multiset<std::string> all;
  for (const auto& v : seen) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 360u);
  std::set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), 360u) << "a record was leased twice";
}

TEST_F(EventQueueTest, StatsReportDepthAgeDropsCheckpointsAndDeadLetters) {
  QueueOptions o = options();
  o.max_chunk_records = 10;
  auto q = open(o);
  auto empty = q->stats();
  EXPECT_FALSE(empty->oldest_age.has_value());
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 10), {"Security", "bm-S"}).ok());
  clock_.advance(5s);
  ASSERT_TRUE(q->enqueue({alertRecord("x")}, {"System", "bm-Y"}).ok());
  clock_.advance(2s);
  auto st = q->stats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->events, 11u);
  EXPECT_EQ(st->priority_events, 1u);
  EXPECT_EQ(st->chunks, 2u);
  EXPECT_GT(st->stored_bytes, 0u);
  EXPECT_GT(st->raw_bytes, st->stored_bytes / 2);
  ASSERT_TRUE(st->oldest_age.has_value());
  EXPECT_EQ(*st->oldest_age, 7000ms);
  EXPECT_EQ(st->checkpoints,
            (std::map<std::string, std::string>{{"Security", "bm-S"}, {"System", "bm-Y"}}));
  EXPECT_EQ(st->dead_letter_chunks, 0u);
  EXPECT_EQ(RawDb(o.path).queryInt("SELECT sum(length(payload)) FROM chunks"),
            static_cast<int64_t>(st->stored_bytes));
}

TEST_F(EventQueueTest, FullSyncModeIsAccepted) {
  QueueOptions o = options();
  o.sync = SyncMode::kFull;
  auto q = open(o);
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 2), {"Security", "p"}).ok());
  EXPECT_EQ(drain(*q).size(), 2u);
}

// A random epoch is drawn when the file is created and kept with it; a new file gets another
// one, so the lease sequence restarting at 1 never repeats a batch id of the old file.
TEST_F(EventQueueTest, EpochIsDrawnWithTheFileAndKeptAcrossReopens) {
  auto random = testing::FakeRandom::counting(0xabc);
  QueueOptions o = options();
  o.random = &random;
  std::string first;
  {
    auto q = open(o);
    ASSERT_TRUE(q);
    first = q->epoch();
    EXPECT_EQ(first, "0000000000000abc");
    ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 2), {"Security", "p"}).ok());
    auto lease = q->reserve(10, 1 << 20, 60s);
    ASSERT_TRUE(lease.ok());
    EXPECT_EQ(lease->id, 1);
  }
  {
    auto q = open(o);
    ASSERT_TRUE(q);
    EXPECT_EQ(q->epoch(), first) << "reopening keeps the epoch";
    EXPECT_EQ(random.calls(), 1u) << "no new draw";
  }
  std::filesystem::remove(o.path);
  std::filesystem::remove(o.path.string() + "-wal");
  std::filesystem::remove(o.path.string() + "-shm");
  auto q = open(o);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->epoch(), "0000000000000abd");
  ASSERT_TRUE(q->enqueue(eventBatch("Security", 1, 2), {"Security", "p"}).ok());
  auto lease = q->reserve(10, 1 << 20, 60s);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->id, 1) << "the sequence starts again: only the epoch tells the files apart";
}

TEST_F(EventQueueTest, EpochWithoutInjectedRandomIsSixteenHexDigits) {
  auto q = open();
  ASSERT_TRUE(q);
  ASSERT_EQ(q->epoch().size(), 16u);
  EXPECT_EQ(q->epoch().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(q->epoch(), std::string(16, '0'));
}

}  // namespace
}  // namespace t0w
