// DeadLetter: bounded store of chunks the collector rejected for good (or that are damaged), kept
// for an operator to inspect; the oldest are pruned past the bound and the caller counts them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/sqlite/sqlite_db.h"

namespace t0w {

struct DeadLetterEntry {
  int64_t id = 0;
  std::string source;
  int64_t record_count = 0;
  std::string first_key;
  std::string last_key;
  std::string reason;
  int64_t dead_ms = 0;
};

class DeadLetter {
 public:
  static Result<DeadLetter> prepare(SqliteDb& db, int64_t max_entries);

  // Copies a chunk row into the dead-letter table (the caller deletes it from chunks, in the
  // same transaction).
  Status addChunk(int64_t chunk_id, std::string_view reason, int64_t now_ms);
  struct Pruned {
    int64_t entries = 0;
    int64_t records = 0;
  };
  // Deletes the oldest entries beyond the bound.
  Result<Pruned> prune();
  Result<int64_t> count();
  Result<std::vector<DeadLetterEntry>> list(int64_t limit);

 private:
  DeadLetter(SqliteDb* db, int64_t max_entries, Statement add, Statement prune, Statement count)
      : db_(db),
        max_entries_(max_entries),
        add_(std::move(add)),
        prune_(std::move(prune)),
        count_(std::move(count)) {}
  SqliteDb* db_;
  int64_t max_entries_;
  Statement add_;
  Statement prune_;
  Statement count_;
};

}  // namespace t0w
