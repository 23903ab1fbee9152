#include "agent/queue/dead_letter.h"

#include <algorithm>

namespace t0w {

Result<DeadLetter> DeadLetter::prepare(SqliteDb& db, int64_t max_entries) {
  auto add = db.prepare(
      "INSERT INTO dead_letter(chunk_id, lane, source, record_count, raw_bytes, first_key, "
      "last_key, created_ms, dead_ms, reason, payload) "
      "SELECT id, lane, source, record_count, raw_bytes, first_key, last_key, created_ms, ?2, ?3, "
      "payload FROM chunks WHERE id = ?1",
      "dead-letter chunk");
  if (!add) return add.error();
  // Keep the newest max_entries rows (ids grow with time).
  auto prune = db.prepare(
      "DELETE FROM dead_letter WHERE id NOT IN "
      "(SELECT id FROM dead_letter ORDER BY id DESC LIMIT ?1) RETURNING record_count",
      "prune dead letters");
  if (!prune) return prune.error();
  auto count = db.prepare("SELECT count(*) FROM dead_letter", "count dead letters");
  if (!count) return count.error();
  return DeadLetter(&db, std::max<int64_t>(max_entries, 1), std::move(*add), std::move(*prune),
                    std::move(*count));
}

Status DeadLetter::addChunk(int64_t chunk_id, std::string_view reason, int64_t now_ms) {
  add_.bind(1, chunk_id).bind(2, now_ms).bindText(3, reason);
  return add_.run();
}

Result<DeadLetter::Pruned> DeadLetter::prune() {
  prune_.bind(1, max_entries_);
  Pruned out;
  for (;;) {
    auto row = prune_.step();
    if (!row) return row.error();
    if (!*row) break;
    ++out.entries;
    out.records += prune_.columnInt(0);
  }
  prune_.reset();
  return out;
}

Result<int64_t> DeadLetter::count() {
  auto row = count_.step();
  if (!row) return row.error();
  const int64_t n = *row ? count_.columnInt(0) : 0;
  count_.reset();
  return n;
}

Result<std::vector<DeadLetterEntry>> DeadLetter::list(int64_t limit) {
  auto stmt = db_->prepare(
      "SELECT id, source, record_count, first_key, last_key, reason, dead_ms FROM dead_letter "
      "ORDER BY id LIMIT ?1",
      "list dead letters");
  if (!stmt) return stmt.error();
  stmt->bind(1, limit);
  std::vector<DeadLetterEntry> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back(DeadLetterEntry{stmt->columnInt(0), std::string(stmt->columnText(1)),
                                  stmt->columnInt(2), std::string(stmt->columnText(3)),
                                  std::string(stmt->columnText(4)),
                                  std::string(stmt->columnText(5)), stmt->columnInt(6)});
  }
  return out;
}

}  // namespace t0w
