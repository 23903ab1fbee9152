// CheckpointStore: each source's resume position, written inside the caller's transaction so
// that a checkpoint never gets ahead of the records it covers.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/result.h"
#include "common/sqlite/sqlite_db.h"

namespace t0w {

class CheckpointStore {
 public:
  static Result<CheckpointStore> prepare(SqliteDb& db);

  Status set(std::string_view source, std::string_view position, int64_t now_ms);
  Result<std::optional<std::string>> get(std::string_view source);
  Result<std::map<std::string, std::string>> all();

 private:
  CheckpointStore(Statement set, Statement get, Statement all)
      : set_(std::move(set)), get_(std::move(get)), all_(std::move(all)) {}
  Statement set_;
  Statement get_;
  Statement all_;
};

}  // namespace t0w
