// Migrator: brings an SQLite database to the newest schema of a list of migrations (embedded at
// build time by embed_sql.cmake); PRAGMA user_version records the applied version.
#pragma once

#include <span>
#include <string_view>

#include "common/core/result.h"
#include "common/sqlite/sqlite_db.h"

namespace t0w {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

class Migrator {
 public:
  // migrations in version order (e.g. queueMigrations(), agent/queue/queue_migrations.h).
  explicit Migrator(std::span<const Migration> migrations) : migrations_(migrations) {}

  // Applies every migration above the database's user_version up to `target` (default: all),
  // each in its own transaction together with its user_version bump. A database newer than
  // this binary is refused (Errc::kUnsupported) rather than touched.
  Status migrate(SqliteDb& db, int target = -1) const;

 private:
  std::span<const Migration> migrations_;
};

}  // namespace t0w
