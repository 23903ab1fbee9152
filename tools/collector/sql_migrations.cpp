#include "tools/collector/sql_migrations.h"

#include <span>
#include <string>

#include "common/sqlite/migrator.h"

namespace t0w::collector {
namespace {

constexpr Migration kSqliteMigrations[] = {
#include "collector_sqlite_migrations.inc"
};
constexpr Migration kPostgresMigrations[] = {
#include "collector_postgres_migrations.inc"
};

Status rollback(SqlConn& c, const Error& e) {
  (void)c.script("ROLLBACK");
  return e;
}

Status migrateLocked(SqlConn& c, bool postgres);

}  // namespace

Status migrateSchema(SqlConn& c, bool postgres, const std::function<Status()>& then) {
  const auto migrateThen = [&]() -> Status {
    if (Status s = migrateLocked(c, postgres); !s) return s;
    return then ? then() : Status{};
  };
  if (!postgres) return migrateThen();
  // Several instances starting at once on one database: the first migrates, the others wait
  // here, then find every migration done. The lock is the session's (held across the
  // transactions, even the CREATE TABLE IF NOT EXISTS, which races on PostgreSQL's catalog
  // otherwise); a process that dies releases it with its connection.
  if (Status s = c.script("SELECT pg_advisory_lock(7302531)"); !s) return s;
  Status result = migrateThen();
  if (Status s = c.script("SELECT pg_advisory_unlock(7302531)"); !s && result) return s;
  return result;
}

namespace {

Status migrateLocked(SqlConn& c, bool postgres) {
  const std::span<const Migration> migrations =
      postgres ? std::span<const Migration>(kPostgresMigrations)
               : std::span<const Migration>(kSqliteMigrations);
  if (Status s =
          c.script("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                   "name TEXT NOT NULL)");
      !s) {
    return s;
  }
  for (const Migration& m : migrations) {
    if (Status s = c.begin(); !s) return s;
    auto done =
        c.query("SELECT version FROM schema_migrations WHERE version = ?", {int64_t{m.version}});
    if (!done) return rollback(c, done.error());
    if (!done->empty()) {
      if (Status s = c.script("COMMIT"); !s) return s;
      continue;
    }
    if (Status s = c.script(std::string(m.sql)); !s) {
      return rollback(c, makeError(s.error().code,
                                   "migration " + std::string(m.name) + ": " + s.error().message));
    }
    auto ins = c.query("INSERT INTO schema_migrations(version, name) VALUES (?, ?)",
                       {int64_t{m.version}, std::string(m.name)});
    if (!ins) return rollback(c, ins.error());
    if (Status s = c.script("COMMIT"); !s) return s;
  }
  auto newest = c.query("SELECT MAX(version) FROM schema_migrations", {});
  if (!newest) return newest.error();
  if (!newest->empty() && sqlInt((*newest)[0][0]) > migrations.back().version) {
    return makeError(Errc::kUnsupported, "database schema version " +
                                             std::to_string(sqlInt((*newest)[0][0])) +
                                             " is newer than this collector supports");
  }
  return {};
}

}  // namespace

}  // namespace t0w::collector
