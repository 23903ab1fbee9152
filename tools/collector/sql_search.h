// Free-text search of stored events (the API's `q`): a case-insensitive substring of the
// event's JSON, answered through an index where one can serve the term. PostgreSQL: a pg_trgm
// GIN index on events.body (migration 0008) serves ILIKE. SQLite, when
// storage.sqlite_search_index is on: an FTS5 trigram table over events.body (external content:
// the body is stored once) narrows the rows to check, and LIKE on the body decides, so that the
// answer is the scan's. A term without three characters in a row that are not LIKE wildcards
// has no trigram to look up: it is answered by the scan, which stops at the page's `limit`
// matches (such a term matches most events).
#pragma once

#include <string>
#include <vector>

#include "common/core/result.h"
#include "tools/collector/sql_conn.h"
#include "tools/collector/storage.h"

namespace t0w::collector {

class EventSearch {
 public:
  EventSearch(bool postgres, bool fts) : postgres_(postgres), fts_(fts) {}

  // SQLite: creates and fills the FTS5 table when `enabled` and it is missing, drops it when not
  // `enabled`. Its own transaction.
  static Status configureSqlite(SqlConn& c, bool enabled);

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
