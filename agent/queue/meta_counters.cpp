#include "agent/queue/meta_counters.h"

namespace t0w {

Result<MetaCounters> MetaCounters::prepare(SqliteDb& db) {
  auto add = db.prepare(
      "INSERT INTO meta(name, value) VALUES(?1, ?2) "
      "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value RETURNING value",
      "update counter");
  if (!add) return add.error();
  auto get = db.prepare("SELECT value FROM meta WHERE name = ?1", "read counter");
  if (!get) return get.error();
  return MetaCounters(std::move(*add), std::move(*get));
}

Result<int64_t> MetaCounters::add(std::string_view name, int64_t delta) {
  add_.bindText(1, name).bind(2, delta);
  auto row = add_.step();
  if (!row) return row.error();
  const int64_t value = *row ? add_.columnInt(0) : delta;
  // Finish the statement so that the write is complete before the next use.
  if (Status s = add_.run(); !s) return s.error();
  return value;
}

Result<int64_t> MetaCounters::get(std::string_view name) {
  get_.bindText(1, name);
  auto row = get_.step();
  if (!row) return row.error();
  const int64_t value = *row ? get_.columnInt(0) : 0;
  get_.reset();
  return value;
}

}  // namespace t0w
