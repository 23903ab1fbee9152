#include "agent/queue/event_queue.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "agent/queue/chunk_codec.h"
#include "common/core/time.h"

namespace t0w {
namespace {

constexpr int64_t kPriorityLane = 0;
constexpr int64_t kEventLane = 1;

// Upper bound on a chunk's decompressed size, on top of the recorded raw size, so that a
// damaged raw_bytes column cannot make reserve() allocate without limit.
constexpr size_t kMaxChunkRawSlack = 1 << 16;

using DropInfo = DroppedEvents;

// The status record that reports dropped events; `key` carries the report's sequence number.
QueueRecord dropReport(const std::string& source, const DropInfo& info, std::string key,
                       int64_t now_ms) {
  nlohmann::ordered_json body;
  body["type"] = "queue_drop";
  body["source"] = source;
  body["dropped_events"] = info.events;
  body["dropped_chunks"] = info.chunks;
  body["first_key"] = info.first_key;
  body["last_key"] = info.last_key;
  body["message"] = "dropped " + std::to_string(info.events) + " events from source " + source +
                    " between positions " + info.first_key + ".." + info.last_key + " (queue full)";
  QueueRecord r;
  r.kind = RecordKind::kStatus;
  r.key = std::move(key);
  r.time = unixMicrosToFiletime(now_ms * 1000);
  r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return r;
}

// The epoch keeps the report of a new queue file from taking the key of an old file's report.
std::string dropReportKey(const std::string& epoch, int64_t seq) {
  return "queue|drop|" + epoch + "|" + std::to_string(seq);
}

// A nonzero 63-bit value (SQLite integers are signed 64-bit).
int64_t drawEpoch(Random* random) {
  uint64_t v = 0;
  while (v == 0) {
    if (random != nullptr) {
      v = random->uniform(uint64_t{1} << 63);
    } else {
      std::random_device rd;
      v = ((uint64_t{rd()} << 32) | rd()) >> 1;
    }
  }
  return static_cast<int64_t>(v);
}

std::string hex16(int64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  auto u = static_cast<uint64_t>(v);
  for (int i = 15; i >= 0; --i, u >>= 4) out[static_cast<size_t>(i)] = kHex[u & 15];
  return out;
}

}  // namespace

struct EventQueue::PendingChunk {
  int64_t lane = kEventLane;
  std::string source;
  std::string first_key;
  std::string last_key;
  EncodedChunk encoded;
};

struct EventQueue::Prepared {
  Statement insert_chunk;
  Statement select_shippable;
  Statement lease_chunk;
  Statement delete_lease;
  Statement release_lease;
  Statement lease_chunk_ids;
  Statement drop_candidates;
  Statement delete_chunk;
  Statement pending_report;
  Statement add_drops;
  std::optional<CheckpointStore> checkpoints;
  std::optional<MetaCounters> counters;
  std::optional<DeadLetter> dead_letter;
};

Result<std::unique_ptr<EventQueue>> EventQueue::open(QueueOptions options, const Clock& clock) {
  auto file = openQueueFile(options.path, options.sync, clock);
  if (!file) return file.error();
  std::unique_ptr<EventQueue> q(
      new EventQueue(std::move(options), clock, std::move(file->db), std::move(file->incident)));
  // Leases in the file belong to a process that is gone: its uploads may or may not have
  // arrived, so the rows ship again (the collector deduplicates).
  if (Status s = q->db_.exec("UPDATE chunk_leases SET lease_id = NULL, lease_expires_ms = NULL "
                             "WHERE lease_id IS NOT NULL",
                             "expire leases at open");
      !s) {
    return s.error();
  }
  auto bytes = q->db_.queryInt("SELECT CAST(total(length(payload)) AS INTEGER) FROM chunks",
                               "measure queue size");
  if (!bytes) return bytes.error();
  q->stored_bytes_ = *bytes;
  if (Status s = q->prepareStatements(); !s) return s.error();
  if (Status s = q->loadEpoch(); !s) return s.error();
  return q;
}

Status EventQueue::loadEpoch() {
  auto epoch = stmts_->counters->get("queue_epoch");
  if (!epoch) return epoch.error();
  if (*epoch == 0) {
    // A new file (or one written before epochs existed): either way its batch ids so far had
    // no epoch, so a fresh one cannot collide with them.
    auto set = stmts_->counters->add("queue_epoch", drawEpoch(options_.random));
    if (!set) return set.error();
    epoch = set;
  }
  epoch_ = hex16(*epoch);
  return {};
}

EventQueue::EventQueue(QueueOptions options, const Clock& clock, SqliteDb db,
                       std::optional<QueueIncident> incident)
    : options_(std::move(options)),
      clock_(clock),
      db_(std::move(db)),
      incident_(std::move(incident)),
      stmts_(std::make_unique<Prepared>()) {}

// Statements are finalized before the connection closes (members die in reverse order).
EventQueue::~EventQueue() { stmts_.reset(); }

Status EventQueue::prepareStatements() {
  struct Item {
    Statement* target;
    const char* sql;
    const char* what;
  };
  Prepared& p = *stmts_;
  const Item items[] = {
      {&p.insert_chunk,
       "INSERT INTO chunks(lane, source, record_count, raw_bytes, first_key, last_key, "
       "created_ms, payload, payload_crc) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
       "insert chunk"},
      {&p.select_shippable,
       "SELECT c.id, c.record_count, c.raw_bytes, c.payload, c.payload_crc FROM chunks c "
       "LEFT JOIN chunk_leases l ON l.chunk_id = c.id "
       "WHERE l.lease_id IS NULL OR l.lease_expires_ms <= ?1 ORDER BY c.lane, c.id",
       "select shippable chunks"},
      {&p.lease_chunk,
       "INSERT INTO chunk_leases(chunk_id, lease_id, lease_expires_ms, leases) "
       "VALUES(?3, ?1, ?2, 1) ON CONFLICT(chunk_id) DO UPDATE SET lease_id = excluded.lease_id, "
       "lease_expires_ms = excluded.lease_expires_ms, leases = leases + 1",
       "lease chunk"},
      {&p.delete_lease,
       "DELETE FROM chunks WHERE id IN (SELECT chunk_id FROM chunk_leases WHERE lease_id = ?1) "
       "RETURNING length(payload), record_count",
       "delete leased chunks"},
      {&p.release_lease,
       "UPDATE chunk_leases SET lease_id = NULL, lease_expires_ms = NULL, "
       "retries = retries + ?2 WHERE lease_id = ?1",
       "release lease"},
      {&p.lease_chunk_ids,
       "SELECT chunk_id FROM chunk_leases WHERE lease_id = ?1 ORDER BY chunk_id",
       "list leased chunks"},
      {&p.drop_candidates,
       "SELECT c.id, c.source, c.record_count, c.first_key, c.last_key, length(c.payload) "
       "FROM chunks c LEFT JOIN chunk_leases l ON l.chunk_id = c.id "
       "WHERE c.lane = 1 AND (l.lease_id IS NULL OR l.lease_expires_ms <= ?1) ORDER BY c.id",
       "select chunks to drop"},
      {&p.delete_chunk, "DELETE FROM chunks WHERE id = ?1 RETURNING length(payload)",
       "delete chunk"},
      {&p.pending_report,
       "SELECT id, payload, raw_bytes FROM chunks c WHERE lane = 0 AND source = ?1 AND "
       "NOT EXISTS (SELECT 1 FROM chunk_leases l WHERE l.chunk_id = c.id) AND "
       "substr(first_key, 1, 11) = 'queue|drop|' ORDER BY id DESC LIMIT 1",
       "find pending drop report"},
      {&p.add_drops,
       "INSERT INTO drops(source, events, chunks, last_ms) VALUES(?1, ?2, ?3, ?4) "
       "ON CONFLICT(source) DO UPDATE SET events = events + excluded.events, "
       "chunks = chunks + excluded.chunks, last_ms = excluded.last_ms",
       "count dropped events"},
  };
  for (const Item& item : items) {
    auto stmt = db_.prepare(item.sql, item.what);
    if (!stmt) return stmt.error();
    *item.target = std::move(*stmt);
  }
  auto cp = CheckpointStore::prepare(db_);
  if (!cp) return cp.error();
  p.checkpoints.emplace(std::move(*cp));
  auto counters = MetaCounters::prepare(db_);
  if (!counters) return counters.error();
  p.counters.emplace(std::move(*counters));
  auto dl = DeadLetter::prepare(db_, options_.max_dead_letters);
  if (!dl) return dl.error();
  p.dead_letter.emplace(std::move(*dl));
  return {};
}

int64_t EventQueue::nowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
      .count();
}

Result<std::vector<EventQueue::PendingChunk>> EventQueue::buildChunks(
    std::span<const QueueRecord> records, const std::string& source) const {
  std::vector<PendingChunk> out;
  const size_t max_records = std::max<size_t>(options_.max_chunk_records, 1);
  for (int64_t lane : {kPriorityLane, kEventLane}) {
    std::vector<const QueueRecord*> run;  // the records themselves are not copied
    size_t run_bytes = 0;
    auto flush = [&]() -> Status {
      if (run.empty()) return {};
      auto enc = encodeChunk(run, options_.compression_level);
      if (!enc) return enc.error();
      out.push_back(PendingChunk{lane, source, run.front()->key, run.back()->key, std::move(*enc)});
      run.clear();
      run_bytes = 0;
      return {};
    };
    for (const QueueRecord& r : records) {
      const bool priority = r.kind != RecordKind::kEvent;
      if (priority != (lane == kPriorityLane)) continue;
      const size_t size = r.key.size() + r.body.size() + 16;
      if (!run.empty() &&
          (run.size() >= max_records || run_bytes + size > options_.max_chunk_bytes)) {
        if (Status s = flush(); !s) return s.error();
      }
      run.push_back(&r);
      run_bytes += size;
    }
    if (Status s = flush(); !s) return s.error();
  }
  return out;
}

Status EventQueue::insertChunk(const PendingChunk& c, int64_t now_ms) {
  stmts_->insert_chunk.bind(1, c.lane)
      .bindText(2, c.source)
      .bind(3, static_cast<int64_t>(c.encoded.record_count))
      .bind(4, static_cast<int64_t>(c.encoded.raw_bytes))
      .bindText(5, c.first_key)
      .bindText(6, c.last_key)
      .bind(7, now_ms)
      .bindBlob(8, c.encoded.payload)
      .bind(9, static_cast<int64_t>(payloadChecksum(c.encoded.payload)));
  return stmts_->insert_chunk.run();
}

Result<EnqueueResult> EventQueue::enqueue(std::span<const QueueRecord> records,
                                          const Checkpoint& checkpoint) {
  if (checkpoint.source.empty()) {
    return makeError(Errc::kInvalidArgument, "enqueue: checkpoint without a source");
  }
  for (const QueueRecord& r : records) {
    if (Status s = validateRecord(r); !s) {
      return makeError(s.error().code,
                       "enqueue from " + checkpoint.source + ": " + s.error().message);
    }
  }
  // Compression runs before taking the lock so that producers overlap with each other.
  auto chunks = buildChunks(records, checkpoint.source);
  if (!chunks) return chunks.error();
  int64_t new_bytes = 0;
  for (const auto& c : *chunks) new_bytes += static_cast<int64_t>(c.encoded.payload.size());
  const auto cap = static_cast<int64_t>(options_.max_bytes);
  if (new_bytes > cap) {
    return makeError(Errc::kLimit, "enqueue from " + checkpoint.source + ": batch of " +
                                       std::to_string(new_bytes) +
                                       " compressed bytes exceeds the queue cap of " +
                                       std::to_string(cap));
  }

  std::lock_guard lock(mu_);
  const int64_t now = nowMs();
  EnqueueResult result;
  if (stored_bytes_ + new_bytes > cap && options_.overflow == OverflowPolicy::kPauseSources) {
    result.outcome = EnqueueResult::Outcome::kFull;
    return result;
  }
  auto tx = Transaction::begin(db_, "enqueue");
  if (!tx) return tx.error();
  int64_t delta = new_bytes;
  if (stored_bytes_ + new_bytes > cap) {
    auto room = makeRoom(static_cast<uint64_t>(new_bytes), now, result.dropped_events, delta);
    if (!room) return room.error();
    if (!*room) {
      // Nothing can be dropped (all leased, or only priority records): refuse, drop nothing.
      result.outcome = EnqueueResult::Outcome::kFull;
      result.dropped_events = 0;
      return result;  // the transaction rolls back
    }
  }
  for (const auto& c : *chunks) {
    if (Status s = insertChunk(c, now); !s) return s.error();
  }
  if (Status s = stmts_->checkpoints->set(checkpoint.source, checkpoint.position, now); !s) {
    return s.error();
  }
  if (Status s = tx->commit(); !s) return s.error();
  stored_bytes_ += delta;
  return result;
}

Result<bool> EventQueue::makeRoom(uint64_t needed, int64_t now_ms, uint64_t& dropped_events,
                                  int64_t& delta) {
  const auto cap = static_cast<int64_t>(options_.max_bytes);
  // Chunks to drop are chosen while the SELECT runs and deleted after it is reset: rows must
  // not change under a running SELECT on the same connection.
  Statement& sel = stmts_->drop_candidates;
  sel.bind(1, now_ms);
  std::vector<int64_t> chosen;
  StatementScope scope(sel);
  std::map<std::string, DropInfo> drops;
  int64_t freed = 0;
  int64_t report_bytes = 0;  // estimate, recomputed when the rest fits
  auto fits = [&] {
    return stored_bytes_ - freed + static_cast<int64_t>(needed) + report_bytes <= cap;
  };
  for (;;) {
    if (fits()) {
      report_bytes = 0;
      for (const auto& [source, info] : drops) {
        // The sequence is not allocated yet; the largest one sizes the report conservatively.
        const QueueRecord r = dropReport(source, info, dropReportKey(epoch_, INT64_MAX), now_ms);
        auto enc = encodeChunk(std::span<const QueueRecord>(&r, 1), options_.compression_level);
        if (!enc) return enc.error();
        report_bytes += static_cast<int64_t>(enc->payload.size());
      }
      if (fits()) break;
    }
    auto row = sel.step();
    if (!row) return row.error();
    if (!*row) return false;  // nothing left that may be dropped
    chosen.push_back(sel.columnInt(0));
    DropInfo& d = drops[std::string(sel.columnText(1))];
    if (d.chunks == 0) d.first_key = std::string(sel.columnText(3));
    d.last_key = std::string(sel.columnText(4));
    d.events += static_cast<uint64_t>(sel.columnInt(2));
    ++d.chunks;
    freed += sel.columnInt(5);
  }
  sel.reset();
  for (int64_t id : chosen) {
    stmts_->delete_chunk.bind(1, id);
    if (Status s = stmts_->delete_chunk.run(); !s) return s.error();
  }
  int64_t report_stored = 0;
  for (const auto& [source, info] : drops) {
    stmts_->add_drops.bindText(1, source)
        .bind(2, static_cast<int64_t>(info.events))
        .bind(3, static_cast<int64_t>(info.chunks))
        .bind(4, now_ms);
    if (Status s = stmts_->add_drops.run(); !s) return s.error();
    dropped_events += info.events;

    // Under sustained overflow a report per batch would fill the queue with reports: a report
    // the collector has never been offered is replaced by one that covers both.
    DropInfo report = info;
    auto merged = mergePendingReport(source, report);
    if (!merged) return merged.error();
    freed += *merged;
    auto seq = stmts_->counters->add("drop_report_seq", 1);
    if (!seq) return seq.error();
    const QueueRecord r = dropReport(source, report, dropReportKey(epoch_, *seq), now_ms);
    auto enc = encodeChunk(std::span<const QueueRecord>(&r, 1), options_.compression_level);
    if (!enc) return enc.error();
    report_stored += static_cast<int64_t>(enc->payload.size());
    if (Status s =
            insertChunk(PendingChunk{kPriorityLane, source, r.key, r.key, std::move(*enc)}, now_ms);
        !s) {
      return s.error();
    }
  }
  delta = delta - freed + report_stored;
  return true;
}

Result<int64_t> EventQueue::mergePendingReport(const std::string& source, DropInfo& report) {
  Statement& sel = stmts_->pending_report;
  sel.bindText(1, source);
  auto row = sel.step();
  if (!row) return row.error();
  if (!*row) {
    sel.reset();
    return int64_t{0};
  }
  const int64_t id = sel.columnInt(0);
  auto records = decodeChunk(sel.columnBlob(1), static_cast<size_t>(sel.columnInt(2)) + 1024);
  sel.reset();
  // An unreadable old report stays as it is; the new one then covers only the new drops.
  if (!records || records->size() != 1) return int64_t{0};
  const auto body = nlohmann::json::parse((*records)[0].body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("dropped_events") ||
      !body["dropped_events"].is_number_unsigned() || !body.contains("dropped_chunks") ||
      !body["dropped_chunks"].is_number_unsigned() || !body.contains("first_key") ||
      !body["first_key"].is_string()) {
    return int64_t{0};
  }
  report.events += body["dropped_events"].get<uint64_t>();
  report.chunks += body["dropped_chunks"].get<uint64_t>();
  report.first_key = body["first_key"].get<std::string>();
  stmts_->delete_chunk.bind(1, id);
  auto del = stmts_->delete_chunk.step();
  if (!del) return del.error();
  const int64_t freed = *del ? stmts_->delete_chunk.columnInt(0) : 0;
  if (Status s = stmts_->delete_chunk.run(); !s) return s.error();
  return freed;
}

namespace {

// A stored chunk about to be sent as it is: against the CRC kept with its row (column
// crc_column), or, for a row written before there was one, by decoding its frame.
Status checkStored(std::string_view payload, size_t raw_bytes, const Statement& row,
                   int crc_column) {
  if (row.columnIsNull(crc_column)) return verifyWireChunk(payload, raw_bytes);
  const auto want = static_cast<uint32_t>(row.columnInt(crc_column));
  if (const uint32_t got = payloadChecksum(payload); got != want) {
    return makeError(Errc::kCorrupt, "chunk: stored bytes damaged (CRC-32 " + std::to_string(got) +
                                         ", the row says " + std::to_string(want) + ")");
  }
  return {};
}

}  // namespace

Result<std::vector<QueueRecord>> decodeLease(const Lease& lease) {
  if (lease.chunks.empty()) return lease.records;
  std::vector<QueueRecord> out;
  out.reserve(lease.record_count);
  for (const LeasedChunk& c : lease.chunks) {
    auto records = decodeChunk(c.payload, c.raw_bytes + kMaxChunkRawSlack);
    if (!records) return records.error();
    std::move(records->begin(), records->end(), std::back_inserter(out));
  }
  return out;
}

Result<Lease> EventQueue::reserve(size_t max_events, size_t max_bytes,
                                  std::chrono::milliseconds lease_duration, LeaseContent content) {
  std::lock_guard lock(mu_);
  const int64_t now = nowMs();
  Lease lease;
  lease.expires = clock_.now() + lease_duration;
  const int64_t expires_ms = now + lease_duration.count();

  struct Damaged {
    int64_t id;
    std::string reason;
  };
  std::vector<Damaged> damaged;
  size_t events = 0;
  {
    Statement& sel = stmts_->select_shippable;
    sel.bind(1, now);
    for (;;) {
      auto row = sel.step();
      if (!row) return row.error();
      if (!*row) break;
      const auto count = static_cast<size_t>(sel.columnInt(1));
      const auto raw = static_cast<size_t>(sel.columnInt(2));
      if (!lease.chunk_ids.empty() &&
          (events + count > max_events || lease.raw_bytes + raw > max_bytes)) {
        break;
      }
      const int64_t id = sel.columnInt(0);
      const std::string_view payload = sel.columnBlob(3);
      if (content == LeaseContent::kStoredChunks && isWireChunk(payload)) {
        // Checked, not parsed: the frame goes out as it is.
        if (Status ok = checkStored(payload, raw, sel, 4); !ok) {
          damaged.push_back(Damaged{id, ok.error().toString()});
          continue;
        }
        lease.chunks.push_back(LeasedChunk{std::string(payload), count, raw});
      } else {
        auto records = decodeChunk(payload, raw + kMaxChunkRawSlack);
        if (!records) {
          damaged.push_back(Damaged{id, records.error().toString()});
          continue;
        }
        if (content == LeaseContent::kStoredChunks) {
          lease.chunks.push_back(LeasedChunk{std::string(payload), records->size(), raw});
        } else {
          std::move(records->begin(), records->end(), std::back_inserter(lease.records));
        }
      }
      lease.chunk_ids.push_back(id);
      events += count;
      lease.raw_bytes += raw;
    }
    sel.reset();
  }
  if (lease.chunk_ids.empty() && damaged.empty()) return lease;

  auto tx = Transaction::begin(db_, "reserve");
  if (!tx) return tx.error();
  int64_t delta = 0;
  for (const Damaged& d : damaged) {
    // A damaged row can never ship: keep it for inspection, count it, go on with the rest.
    if (Status s = stmts_->dead_letter->addChunk(d.id, "corrupt chunk: " + d.reason, now); !s) {
      return s.error();
    }
    auto size = db_.prepare("DELETE FROM chunks WHERE id = ?1 RETURNING length(payload)",
                            "delete corrupt chunk");
    if (!size) return size.error();
    size->bind(1, d.id);
    auto row = size->step();
    if (!row) return row.error();
    if (*row) delta -= size->columnInt(0);
    if (Status s = size->run(); !s) return s.error();
    if (auto c = stmts_->counters->add("corrupt_chunks", 1); !c) return c.error();
  }
  if (!damaged.empty()) {
    auto pruned = stmts_->dead_letter->prune();
    if (!pruned) return pruned.error();
    if (auto c = stmts_->counters->add("dead_letter_pruned_chunks", pruned->entries); !c) {
      return c.error();
    }
    if (auto c = stmts_->counters->add("dead_letter_pruned_events", pruned->records); !c) {
      return c.error();
    }
  }
  lease.record_count = events;
  if (!lease.chunk_ids.empty()) {
    auto seq = stmts_->counters->add("lease_seq", 1);
    if (!seq) return seq.error();
    lease.id = *seq;
    for (int64_t id : lease.chunk_ids) {
      stmts_->lease_chunk.bind(1, lease.id).bind(2, expires_ms).bind(3, id);
      if (Status s = stmts_->lease_chunk.run(); !s) return s.error();
    }
  }
  if (Status s = tx->commit(); !s) return s.error();
  stored_bytes_ += delta;
  return lease;
}

Result<int64_t> EventQueue::deleteLeaseRows(int64_t lease_id, uint64_t* records) {
  Statement& del = stmts_->delete_lease;
  del.bind(1, lease_id);
  int64_t bytes = 0;
  for (;;) {
    auto row = del.step();
    if (!row) return row.error();
    if (!*row) break;
    bytes += del.columnInt(0);
    if (records != nullptr) *records += static_cast<uint64_t>(del.columnInt(1));
  }
  del.reset();
  return bytes;
}

Result<uint64_t> EventQueue::ack(const Lease& lease) {
  if (lease.id == 0) return uint64_t{0};
  std::lock_guard lock(mu_);
  uint64_t records = 0;
  auto bytes = deleteLeaseRows(lease.id, &records);
  if (!bytes) return bytes.error();
  stored_bytes_ -= *bytes;
  return records;
}

Status EventQueue::release(const Lease& lease, bool count_retry) {
  if (lease.id == 0) return {};
  std::lock_guard lock(mu_);
  stmts_->release_lease.bind(1, lease.id).bind(2, count_retry ? 1 : 0);
  return stmts_->release_lease.run();
}

Status EventQueue::deadLetter(const Lease& lease, std::string_view reason) {
  if (lease.id == 0) return {};
  std::lock_guard lock(mu_);
  const int64_t now = nowMs();
  auto tx = Transaction::begin(db_, "dead-letter");
  if (!tx) return tx.error();
  std::vector<int64_t> ids;
  {
    Statement& sel = stmts_->lease_chunk_ids;
    sel.bind(1, lease.id);
    for (;;) {
      auto row = sel.step();
      if (!row) return row.error();
      if (!*row) break;
      ids.push_back(sel.columnInt(0));
    }
    sel.reset();
  }
  for (int64_t id : ids) {
    if (Status s = stmts_->dead_letter->addChunk(id, reason, now); !s) return s;
  }
  auto bytes = deleteLeaseRows(lease.id, nullptr);
  if (!bytes) return bytes.error();
  auto pruned = stmts_->dead_letter->prune();
  if (!pruned) return pruned.error();
  if (auto c = stmts_->counters->add("dead_letter_pruned_chunks", pruned->entries); !c) {
    return c.error();
  }
  if (auto c = stmts_->counters->add("dead_letter_pruned_events", pruned->records); !c) {
    return c.error();
  }
  if (Status s = tx->commit(); !s) return s;
  stored_bytes_ -= *bytes;
  return {};
}

Result<std::optional<std::string>> EventQueue::checkpoint(std::string_view source) {
  std::lock_guard lock(mu_);
  return stmts_->checkpoints->get(source);
}

Result<std::vector<DeadLetterEntry>> EventQueue::deadLetters(int64_t limit) {
  std::lock_guard lock(mu_);
  return stmts_->dead_letter->list(limit);
}

Result<QueueStats> EventQueue::stats() {
  std::lock_guard lock(mu_);
  const int64_t now = nowMs();
  QueueStats st;
  {
    auto q = db_.prepare(
        "SELECT count(*), total(record_count), total(length(payload)), total(raw_bytes), "
        "min(created_ms), total(CASE WHEN lane = 0 THEN record_count END), "
        "total(CASE WHEN l.lease_id IS NOT NULL AND l.lease_expires_ms > ?1 "
        "THEN record_count END) FROM chunks c LEFT JOIN chunk_leases l ON l.chunk_id = c.id",
        "queue depth");
    if (!q) return q.error();
    q->bind(1, now);
    auto row = q->step();
    if (!row) return row.error();
    st.chunks = static_cast<uint64_t>(q->columnInt(0));
    st.events = static_cast<uint64_t>(q->columnInt(1));
    st.stored_bytes = static_cast<uint64_t>(q->columnInt(2));
    st.raw_bytes = static_cast<uint64_t>(q->columnInt(3));
    if (!q->columnIsNull(4)) {
      st.oldest_age = std::chrono::milliseconds(std::max<int64_t>(0, now - q->columnInt(4)));
    }
    st.priority_events = static_cast<uint64_t>(q->columnInt(5));
    st.leased_events = static_cast<uint64_t>(q->columnInt(6));
  }
  {
    auto q = db_.prepare("SELECT source, events, chunks FROM drops ORDER BY source", "list drops");
    if (!q) return q.error();
    for (;;) {
      auto row = q->step();
      if (!row) return row.error();
      if (!*row) break;
      st.drops[std::string(q->columnText(0))] = SourceDrops{static_cast<uint64_t>(q->columnInt(1)),
                                                            static_cast<uint64_t>(q->columnInt(2))};
    }
  }
  auto cps = stmts_->checkpoints->all();
  if (!cps) return cps.error();
  st.checkpoints = std::move(*cps);
  auto dl = stmts_->dead_letter->count();
  if (!dl) return dl.error();
  st.dead_letter_chunks = static_cast<uint64_t>(*dl);
  for (auto [name, field] : {std::pair{"dead_letter_pruned_chunks", &st.dead_letter_pruned_chunks},
                             std::pair{"dead_letter_pruned_events", &st.dead_letter_pruned_events},
                             std::pair{"corrupt_chunks", &st.corrupt_chunks}}) {
    auto v = stmts_->counters->get(name);
    if (!v) return v.error();
    *field = static_cast<uint64_t>(*v);
  }
  return st;
}

Result<int64_t> EventQueue::nextSequence() {
  std::lock_guard lock(mu_);
  return stmts_->counters->add("lease_seq", 1);
}

Status EventQueue::putStatus(std::string_view name, std::string_view json_value) {
  std::lock_guard lock(mu_);
  auto q = db_.prepare(
      "INSERT INTO agent_status(name, value, updated_ms) VALUES(?1, ?2, ?3) "
      "ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms",
      "store status");
  if (!q) return q.error();
  q->bindText(1, name).bindText(2, json_value).bind(3, nowMs());
  return q->run();
}

Result<std::map<std::string, std::string>> EventQueue::statusEntries() {
  std::lock_guard lock(mu_);
  auto q = db_.prepare("SELECT name, value FROM agent_status ORDER BY name", "read status");
  if (!q) return q.error();
  std::map<std::string, std::string> out;
  for (;;) {
    auto row = q->step();
    if (!row) return row.error();
    if (!*row) break;
    out[std::string(q->columnText(0))] = std::string(q->columnText(1));
  }
  return out;
}

}  // namespace t0w
