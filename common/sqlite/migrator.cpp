#include "common/sqlite/migrator.h"

#include <string>

namespace t0w {

Status Migrator::migrate(SqliteDb& db, int target) const {
  const int newest = migrations_.empty() ? 0 : migrations_.back().version;
  if (target < 0) target = newest;
  auto current = db.queryInt("PRAGMA user_version", "read schema version");
  if (!current) return current.error();
  if (*current > newest) {
    return makeError(Errc::kUnsupported,
                     db.file() + ": schema version " + std::to_string(*current) +
                         " is newer than this agent supports (" + std::to_string(newest) + ")");
  }
  for (const Migration& m : migrations_) {
    if (m.version <= *current || m.version > target) continue;
    const std::string what = "migration " + std::string(m.name);
    auto tx = Transaction::begin(db, what);
    if (!tx) return tx.error();
    if (Status s = db.exec(m.sql, what); !s) return s;
    // PRAGMA takes no bound parameters; the version is our own integer.
    if (Status s = db.exec("PRAGMA user_version = " + std::to_string(m.version), what); !s) {
      return s;
    }
    if (Status s = tx->commit(); !s) return s;
  }
  return {};
}

}  // namespace t0w
