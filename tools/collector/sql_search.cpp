#include "tools/collector/sql_search.h"

#include <algorithm>

#include "tools/collector/sql_rows.h"

namespace t0w::collector {
namespace {

// %text% with the LIKE wildcards and the escape character escaped (ESCAPE '\').
std::string likePattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

// %text% as FTS5 takes it: LIKE on an FTS5 table has no ESCAPE, so % and _ of the term stay
// wildcards there. That finds more rows, never fewer; the LIKE on the body then decides.
std::string ftsPattern(const std::string& text) { return "%" + text + "%"; }

Status rollback(SqlConn& c, const Error& e) {
  (void)c.script("ROLLBACK");
  return e;
}

Status configureSqlite(SqlConn& c, bool enabled);
Status configurePostgres(SqlConn& c, bool enabled);

}  // namespace

Status EventSearch::configure(SqlConn& c, bool postgres, bool enabled) {
  return postgres ? configurePostgres(c, enabled) : configureSqlite(c, enabled);
}

namespace {

Status configurePostgres(SqlConn& c, bool enabled) {
  if (Status s = c.begin(); !s) return s;
  // Looked up first: CREATE INDEX IF NOT EXISTS takes its lock on events (which waits for, and
  // holds up, the ingest of other instances) before it finds the index there.
  auto exists = c.query("SELECT to_regclass('events_body_trgm') IS NOT NULL", {});
  if (!exists) return rollback(c, exists.error());
  const bool present = !exists->empty() && (*exists)[0][0].value_or("") == "t";
  if (enabled == present) return c.script("COMMIT");
  if (!enabled) {
    if (Status s = c.script("DROP INDEX IF EXISTS events_body_trgm"); !s) {
      return rollback(c, makeError(s.error().code,
                                   "storage.search_index: false: dropping "
                                   "events_body_trgm: " +
                                       s.error().message));
    }
    return c.script("COMMIT");
  }
  // A no-op where the extension is there already, whoever created it.
  if (Status s = c.script("CREATE EXTENSION IF NOT EXISTS pg_trgm"); !s) {
    return rollback(
        c, makeError(s.error().code,
                     "storage.search_index: true needs the PostgreSQL extension pg_trgm, and "
                     "CREATE EXTENSION IF NOT EXISTS pg_trgm failed: " +
                         s.error().message +
                         " (pg_trgm is a trusted extension: the database user needs the CREATE "
                         "privilege on the database, or a superuser creates it once in this "
                         "database; it ships with PostgreSQL's contrib modules, on Debian the "
                         "postgresql package; or set storage.search_index: false)"));
  }
  // Built at start, in this transaction: ingest into events waits until it is done (33 s for
  // 200,000 events on the test machine, docs/performance.md).
  if (Status s = c.script("CREATE INDEX IF NOT EXISTS events_body_trgm ON events USING gin "
                          "(body gin_trgm_ops)");
      !s) {
    return rollback(c, makeError(s.error().code,
                                 "storage.search_index: creating "
                                 "events_body_trgm: " +
                                     s.error().message));
  }
  return c.script("COMMIT");
}

Status configureSqlite(SqlConn& c, bool enabled) {
  if (Status s = c.begin(); !s) return s;
  auto exists = c.query("SELECT name FROM sqlite_master WHERE name = 'events_search'", {});
  if (!exists) return rollback(c, exists.error());
  if (enabled == !exists->empty()) return c.script("COMMIT");
  // detail=none: no token positions (substring matching takes the LIKE on the body), half the
  // index and half its cost at ingest of detail=full. Deletions (retention) take the index rows
  // of their body out by trigger; ingest adds a batch's (indexNewEvents).
  const char* sql = enabled
                        ? "CREATE VIRTUAL TABLE events_search USING fts5(body, content='events', "
                          "content_rowid='id', tokenize='trigram', detail=none);"
                          "CREATE TRIGGER events_search_delete AFTER DELETE ON events BEGIN "
                          "INSERT INTO events_search(events_search, rowid, body) "
                          "VALUES ('delete', OLD.id, OLD.body); END;"
                        : "DROP TRIGGER events_search_delete; DROP TABLE events_search;";
  Status s = c.script(sql);
  // The events stored so far, as ingest indexes a batch's ('rebuild' would take them in one
  // statement: indexNewEvents says why not).
  if (s && enabled) s = EventSearch::indexNewEvents(c, 0);
  if (!s) {
    return rollback(
        c, makeError(s.error().code, std::string("storage.search_index: ") + s.error().message));
  }
  return c.script("COMMIT");
}

}  // namespace

Result<int64_t> EventSearch::lastEventId(SqlConn& c) {
  auto rows = c.query("SELECT COALESCE(MAX(id), 0) FROM events", {});
  if (!rows) return rows.error();
  return rows->empty() ? 0 : sqlInt((*rows)[0][0]);
}

Status EventSearch::indexNewEvents(SqlConn& c, int64_t last_id) {
  auto newest = lastEventId(c);
  if (!newest) return newest.error();
  // A slice of rows per statement bounds what one statement changes, and so its journal,
  // which the collector keeps in memory (configureSqliteForCollector).
  constexpr int64_t kRows = 256;
  for (int64_t from = last_id; from < *newest; from += kRows) {
    auto r = c.query(
        "INSERT INTO events_search(rowid, body) SELECT id, body FROM events WHERE id > ? AND "
        "id <= ?",
        {from, std::min(from + kRows, *newest)});
    if (!r) return r.error();
  }
  return {};
}

bool EventSearch::indexable(const std::string& text) {
  // Characters, not bytes: a UTF-8 continuation byte continues the character before it.
  int run = 0;
  for (unsigned char c : text) {
    if (c == '%' || c == '_') {
      run = 0;
    } else if ((c & 0xC0) != 0x80 && ++run >= 3) {
      return true;
    }
  }
  return false;
}

EventSearch::Statement EventSearch::eventQuery(const EventQuery& q) const {
  // Events are "e": a search through the FTS5 table joins it, and it has a body column too.
  static const std::string columns = [] {
    std::string out = "e.";
    for (const char* c = kEventColumns; *c != '\0'; ++c) {
      out += *c;
      if (*c == ' ') out += "e.";
    }
    return out;
  }();
  std::string from = "events e";
  std::string id = "e.id";  // orders and pages the result
  Statement st;
  std::string where;
  if (q.text && postgres_) {
    // The GIN trigram index, when on, serves ILIKE (backslash is PostgreSQL's LIKE escape by
    // default); the query is the same without it.
    where += " AND e.body ILIKE ?";
    st.params.emplace_back(likePattern(*q.text));
  } else if (q.text) {
    if (fts_ && indexable(*q.text)) {
      // The FTS5 table drives the join (CROSS JOIN: SQLite keeps this order; without statistics
      // it would rather start from events_host and sort), newest first, which it serves: a page
      // stops at `limit` matches.
      from = "events_search s CROSS JOIN events e ON e.id = s.rowid";
      id = "s.rowid";
      where += " AND s.body LIKE ?";
      st.params.emplace_back(ftsPattern(*q.text));
    }
    where += " AND e.body LIKE ? ESCAPE '\\'";
    st.params.emplace_back(likePattern(*q.text));
  }
  if (q.host) where += " AND e.host = ?", st.params.emplace_back(*q.host);
  if (q.channel) where += " AND e.channel = ?", st.params.emplace_back(*q.channel);
  if (q.event_id) where += " AND e.event_id = ?", st.params.emplace_back(*q.event_id);
  if (q.since) where += " AND e.time >= ?", st.params.emplace_back(*q.since);
  if (q.until) where += " AND e.time < ?", st.params.emplace_back(*q.until);
  if (q.before_id) where += " AND " + id + " < ?", st.params.emplace_back(*q.before_id);
  st.sql = "SELECT " + columns + " FROM " + from + " WHERE 1=1" + where + " ORDER BY " + id +
           " DESC LIMIT ?";
  st.params.emplace_back(int64_t{q.limit});
  return st;
}

}  // namespace t0w::collector
