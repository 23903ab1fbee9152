// SqlConn: the little each database driver has to provide (parameterised statements returning
// text rows, scripts, transactions) so that SqlStorage implements Storage once for SQLite and
// PostgreSQL. SQL is written with `?` placeholders; the PostgreSQL connection numbers them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/core/result.h"

namespace t0w::collector {

// Text bound without a copy: the caller keeps it alive until the query returns.
struct SqlText {
  std::string_view text;
};
using SqlParam = std::variant<std::monostate, int64_t, std::string, SqlText>;
using SqlRow = std::vector<std::optional<std::string>>;

// Columns read as numbers are integer columns; NULL (or, short of disk damage, never, text)
// reads as 0.
int64_t sqlInt(const std::optional<std::string>& v);
std::optional<int64_t> sqlOptInt(const std::optional<std::string>& v);
SqlParam sqlOptParam(const std::optional<int64_t>& v);

class SqlConn {
 public:
  virtual ~SqlConn() = default;
  // One statement with parameters; returns its rows as text (NULL as nullopt). Statements are
  // prepared once per connection and reused.
  virtual Result<std::vector<SqlRow>> query(const std::string& sql,
                                            const std::vector<SqlParam>& params) = 0;
  // One or more statements without parameters (migrations, BEGIN/COMMIT).
  virtual Status script(const std::string& sql) = 0;
  virtual Status begin() = 0;
  virtual bool postgres() const = 0;
};

// Process-wide SQLite settings for the collector, before any connection is opened: connections
// in multi-thread mode (each is used by one thread at a time, leased by SqlStorage, so SQLite's
// per-call connection mutex is pure cost), no memory statistics (a global mutex on every
// allocation), statement journals in memory up to 4 MiB (not a temporary file written page by
// page). Returns false when SQLite was already initialised (then nothing changes).
bool configureSqliteForCollector();

// SQLite: WAL, synchronous FULL (or NORMAL), foreign keys on, busy timeout. A new file is
// created readable and writable by its owner only (SQLite gives its -wal and -shm files the
// same mode).
Result<std::unique_ptr<SqlConn>> openSqliteConn(const std::string& path, bool full_sync = true);
// PostgreSQL through libpq.
Result<std::unique_ptr<SqlConn>> openPostgresConn(const std::string& conninfo);

}  // namespace t0w::collector
