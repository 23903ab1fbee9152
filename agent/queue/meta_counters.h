// MetaCounters: named persistent integers (lease sequence, drop-report sequence, prune counts).
#pragma once

#include <string_view>

#include "common/core/result.h"
#include "common/sqlite/sqlite_db.h"

namespace t0w {

class MetaCounters {
 public:
  static Result<MetaCounters> prepare(SqliteDb& db);

  // Adds delta and returns the new value (0 + delta for a counter never written).
  Result<int64_t> add(std::string_view name, int64_t delta);
  Result<int64_t> get(std::string_view name);

 private:
  MetaCounters(Statement add, Statement get) : add_(std::move(add)), get_(std::move(get)) {}
  Statement add_;
  Statement get_;
};

}  // namespace t0w
