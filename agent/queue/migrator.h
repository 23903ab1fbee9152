// Migrator: brings a queue database to the newest schema with the migrations embedded at build
// time from schemas/queue/NNNN_name.sql; PRAGMA user_version records the applied version.
#pragma once

#include <span>
#include <string_view>

#include "agent/queue/sqlite_db.h"
#include "common/core/result.h"

namespace t0w {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

class Migrator {
 public:
  // The migrations compiled into this binary, in version order.
  static std::span<const Migration> embedded();
  static int latestVersion();

  explicit Migrator(std::span<const Migration> migrations = embedded()) : migrations_(migrations) {}

  // Applies every migration above the database's user_version up to `target` (default: all),
  // each in its own transaction together with its user_version bump. A database newer than
  // this binary is refused (Errc::kUnsupported) rather than touched.
  Status migrate(SqliteDb& db, int target = -1) const;

 private:
  std::span<const Migration> migrations_;
};

}  // namespace t0w
