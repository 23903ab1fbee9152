// IngestWriter: the statements of one ingest transaction (Storage::ingest) on a connection the
// caller has begun a transaction on: the batch id, each record, its forward-queue rows, the
// conflicts and their alert, the agent's stored bytes and counters. Shared by SQLite and
// PostgreSQL.
#pragma once

#include <vector>

#include "common/core/result.h"
#include "tools/collector/sql_conn.h"
#include "tools/collector/sql_search.h"
#include "tools/collector/storage.h"

namespace t0w::collector {

class IngestWriter {
 public:
  IngestWriter(SqlConn& conn, const IngestBatch& batch, const EventSearch& search)
      : c_(conn), b_(batch), search_(search) {}
  Result<IngestResult> write();

 private:
  // The batch id: new, re-sent with the same content, or reused with other content.
  Status recordBatch();
  // Inserts the records, many rows per statement, then counts the stored ones, queues their
  // forward rows and compares the others with what their keys hold, in the records' order.
  Status storeRecords(const std::vector<IngestRecord>& records);
  void appendRow(std::vector<SqlParam>& p, const IngestRecord& r) const;
  Status storeForwards(const IngestRecord& r);
  // Compares with what is stored under the key: a duplicate, or a conflict (kept).
  Status keyTaken(const IngestRecord& r);
  Status addConflict(ConflictRecord c);
  // The bytes of the stored rows to the agent's storage_usage row (deletions subtract theirs by
  // trigger).
  Status addStoredBytes();
  Status updateAgent();

  SqlConn& c_;
  const IngestBatch& b_;
  const EventSearch& search_;
  IngestResult out_;
  std::vector<ConflictRecord> conflicts_;
  int64_t drops_ = 0;
  int64_t gaps_ = 0;
  int64_t stored_bytes_ = 0;
};

}  // namespace t0w::collector
