// Free-text search of stored events (the API's `q`): a case-insensitive substring of the
// event's JSON. With storage.search_index on, answered through an index where one can serve the
// term: on PostgreSQL a pg_trgm GIN index on events.body (events_body_trgm) serves ILIKE; on
// SQLite an FTS5 trigram table over events.body (external content: the body is stored once)
// narrows the rows to check, and LIKE on the body decides, so that the answer is the scan's.
// Off (the default on both: an index costs several times the rest of ingest,
// docs/performance.md), and for a term without three characters in a row that are not LIKE
// wildcards (no trigram to look up), the search reads the bodies newest first and stops at the
// page's `limit` matches.
#pragma once

#include <string>
#include <vector>

#include "common/core/result.h"
#include "tools/collector/sql_conn.h"
#include "tools/collector/storage.h"

namespace t0w::collector {

class EventSearch {
 public:
  // `index`: storage.search_index.
  EventSearch(bool postgres, bool index) : postgres_(postgres), fts_(!postgres && index) {}

  // Creates the index when `enabled` and it is missing, drops it when not `enabled`; its own
  // transaction. SQLite: the FTS5 table, filled from the stored events. PostgreSQL: the pg_trgm
  // extension (CREATE EXTENSION IF NOT EXISTS) and events_body_trgm; run under the migrations'
  // advisory lock (migrateSchema) so that instances starting together do not race.
  static Status configure(SqlConn& c, bool postgres, bool enabled);

  // Whether ingest has to index the events it stores (indexNewEvents).
  bool indexesOnIngest() const { return fts_; }
  // In the ingest transaction: the id after which this batch's events get theirs, read before
  // they are inserted (SQLite has one writer: every later id is this transaction's).
  static Result<int64_t> lastEventId(SqlConn& c);
  // Indexes the events stored after `last_id` (lastEventId), once per batch.
  static Status indexNewEvents(SqlConn& c, int64_t last_id);

  // The statement of a query of events (Storage::queryEvents), newest first, its search
  // included; the term is bound, never part of the SQL.
  struct Statement {
    std::string sql;
    std::vector<SqlParam> params;
  };
  Statement eventQuery(const EventQuery& q) const;
  // Whether the FTS5 table serves `text` (three characters in a row that are not % or _).
  static bool indexable(const std::string& text);

 private:
  bool postgres_;
  bool fts_;
};

}  // namespace t0w::collector
