// EventQueue: the agent's SQLite store-and-forward queue (docs/architecture.md, section 3).
// - enqueue() stores a batch of records AND advances its source's checkpoint in one transaction.
// - reserve() leases the oldest unshipped chunks, priority lane (alerts, status) first;
//   ack() deletes them, release() makes them shippable again; a lease left by a crash expires
//   (immediately on reopen), so a crash can duplicate records but never lose them.
// - A byte cap either drops the oldest unleased event chunks (counted per source and reported
//   as a status record in the priority lane) or refuses the batch (kFull) so the collector
//   pauses and retries.
// All methods are safe to call from several threads; one connection serves them in turn.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/queue/checkpoint_store.h"
#include "agent/queue/dead_letter.h"
#include "agent/queue/meta_counters.h"
#include "agent/queue/queue_file.h"
#include "common/core/clock.h"
#include "common/core/result.h"
#include "common/sqlite/sqlite_db.h"
#include "common/wire/queue_record.h"

namespace t0w {

enum class OverflowPolicy { kDropOldest, kPauseSources };

struct QueueOptions {
  std::filesystem::path path;
  // Cap on the stored (compressed) bytes of unshipped chunks.
  uint64_t max_bytes = 1ull << 30;
  OverflowPolicy overflow = OverflowPolicy::kDropOldest;
  SyncMode sync = SyncMode::kNormal;
  // A batch is split into chunks of at most this many records / serialized bytes, which bounds
  // the smallest unit a lease (and so an upload) can hold.
  size_t max_chunk_records = 1000;
  size_t max_chunk_bytes = 1 << 20;
  int compression_level = 1;        // zstd level of chunks, which are sent as stored
  int64_t max_dead_letters = 1000;  // chunks kept in the dead-letter table
  // Draws the queue epoch of a new file; nullptr: std::random_device.
  Random* random = nullptr;
};

// Where a source has read up to, stored with the records it covers.
struct Checkpoint {
  std::string source;    // collector source id: channel name, file path, ...
  std::string position;  // bookmark XML, "<file id>:<offset>", EVTX record id
};

struct EnqueueResult {
  enum class Outcome { kStored, kFull };
  Outcome outcome = Outcome::kStored;
  uint64_t dropped_events = 0;  // older events dropped to make room (kDropOldest)
  bool stored() const { return outcome == Outcome::kStored; }
};

// What reserve() hands out: decoded records, or the chunks as stored for the shipper, which
// sends chunks in the wire encoding without decoding them (chunk_codec.h).
enum class LeaseContent { kRecords, kStoredChunks };

struct LeasedChunk {
  std::string payload;  // as stored; checked (checksum) by reserve()
  size_t records = 0;
  size_t raw_bytes = 0;
};

struct Lease {
  int64_t id = 0;  // also the batch sequence: unique and increasing across restarts
  std::vector<int64_t> chunk_ids;
  // Priority lane first, then oldest first; one of the two is filled (LeaseContent).
  std::vector<QueueRecord> records;
  std::vector<LeasedChunk> chunks;
  size_t record_count = 0;
  std::chrono::system_clock::time_point expires;
  uint64_t raw_bytes = 0;
  bool empty() const { return record_count == 0; }
};

// The records of a lease taken as kStoredChunks (a 413 split, an older collector).
Result<std::vector<QueueRecord>> decodeLease(const Lease& lease);

struct SourceDrops {
  uint64_t events = 0;
  uint64_t chunks = 0;
};

struct QueueStats {
  uint64_t events = 0;  // unshipped records, both lanes, leased or not
  uint64_t priority_events = 0;
  uint64_t leased_events = 0;
  uint64_t chunks = 0;
  uint64_t stored_bytes = 0;  // compressed, what the cap applies to
  uint64_t raw_bytes = 0;
  std::optional<std::chrono::milliseconds> oldest_age;  // of the oldest unshipped chunk
  std::map<std::string, SourceDrops> drops;             // by source, since the queue was made
  std::map<std::string, std::string> checkpoints;
  uint64_t dead_letter_chunks = 0;
  uint64_t dead_letter_pruned_chunks = 0;
  uint64_t dead_letter_pruned_events = 0;
  uint64_t corrupt_chunks = 0;  // damaged rows found by reserve() and dead-lettered
};

// Events dropped from one source, as a drop report states them.
struct DroppedEvents {
  uint64_t events = 0;
  uint64_t chunks = 0;
  std::string first_key;  // first record of the oldest dropped chunk
  std::string last_key;   // last record of the newest dropped chunk
};

class EventQueue {
 public:
  static Result<std::unique_ptr<EventQueue>> open(QueueOptions options, const Clock& clock);
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Set when the database file was unusable at open and replaced (report it as an event).
  const std::optional<QueueIncident>& incident() const { return incident_; }

  // 16 hex digits drawn at random when this queue file was created (stored in its meta table):
  // part of every batch id and drop-report key, so that a new file (deleted, quarantined) never
  // reuses the ids of an old one even though its lease sequence starts again at 1.
  const std::string& epoch() const { return epoch_; }

  // Stores the records and the checkpoint atomically. Records of kind alert/status go to the
  // priority lane. An empty batch only advances the checkpoint. A batch larger than the whole
  // cap is refused with Errc::kLimit.
  Result<EnqueueResult> enqueue(std::span<const QueueRecord> records, const Checkpoint& checkpoint);
  Result<EnqueueResult> enqueue(std::initializer_list<QueueRecord> records,
                                const Checkpoint& checkpoint) {
    return enqueue(std::span<const QueueRecord>(records.begin(), records.size()), checkpoint);
  }

  // Leases up to max_events records / max_bytes serialized bytes, whole chunks only (at least
  // one chunk when any is available). An empty lease when nothing is shippable.
  Result<Lease> reserve(size_t max_events, size_t max_bytes,
                        std::chrono::milliseconds lease_duration,
                        LeaseContent content = LeaseContent::kRecords);
  // Deletes the lease's rows (the collector accepted them); returns how many records went.
  // Rows that expired and were leased again meanwhile stay with their new lease.
  Result<uint64_t> ack(const Lease& lease);
  // Makes the lease's rows shippable again; count_retry adds one to their retry counters.
  Status release(const Lease& lease, bool count_retry);
  // Moves the lease's rows to the dead-letter table (the collector rejected them for good).
  Status deadLetter(const Lease& lease, std::string_view reason);

  Result<std::optional<std::string>> checkpoint(std::string_view source);

  // Added for the shipper and `tier0watch status` (additive):
  // A fresh number from the lease sequence, for a batch that carries part of a lease (413
  // split), so that its batch id differs from every other batch's.
  Result<int64_t> nextSequence();
  // Stores a named status value (a JSON object as text), e.g. the shipper's last outcome.
  Status putStatus(std::string_view name, std::string_view json_value);
  Result<std::map<std::string, std::string>> statusEntries();
  Result<QueueStats> stats();
  Result<std::vector<DeadLetterEntry>> deadLetters(int64_t limit);

 private:
  struct Prepared;
  // Folds the source's newest never-leased drop report into `report` and deletes it; returns
  // the bytes freed (0 when there is none).
  Result<int64_t> mergePendingReport(const std::string& source, DroppedEvents& report);
  EventQueue(QueueOptions options, const Clock& clock, SqliteDb db,
             std::optional<QueueIncident> incident);
  Status prepareStatements();
  Status loadEpoch();
  int64_t nowMs() const;
  struct PendingChunk;
  Result<std::vector<PendingChunk>> buildChunks(std::span<const QueueRecord> records,
                                                const std::string& source) const;
  Status insertChunk(const PendingChunk& chunk, int64_t now_ms);
  // Drops oldest unleased event chunks until `needed` more bytes fit; false when they cannot.
  Result<bool> makeRoom(uint64_t needed, int64_t now_ms, uint64_t& dropped_events,
                        int64_t& freed_bytes);
  Result<int64_t> deleteLeaseRows(int64_t lease_id, uint64_t* records);

  QueueOptions options_;
  const Clock& clock_;
  SqliteDb db_;
  std::optional<QueueIncident> incident_;
  std::string epoch_;
  std::unique_ptr<Prepared> stmts_;
  std::mutex mu_;
  int64_t stored_bytes_ = 0;  // sum of payload sizes in chunks, kept in step with commits
};

}  // namespace t0w
