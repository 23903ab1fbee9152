#include "agent/queue/checkpoint_store.h"

namespace t0w {

Result<CheckpointStore> CheckpointStore::prepare(SqliteDb& db) {
  auto set = db.prepare(
      "INSERT INTO checkpoints(source, position, updated_ms) VALUES(?1, ?2, ?3) "
      "ON CONFLICT(source) DO UPDATE SET position = excluded.position, "
      "updated_ms = excluded.updated_ms",
      "store checkpoint");
  if (!set) return set.error();
  auto get = db.prepare("SELECT position FROM checkpoints WHERE source = ?1", "read checkpoint");
  if (!get) return get.error();
  auto all =
      db.prepare("SELECT source, position FROM checkpoints ORDER BY source", "list checkpoints");
  if (!all) return all.error();
  return CheckpointStore(std::move(*set), std::move(*get), std::move(*all));
}

Status CheckpointStore::set(std::string_view source, std::string_view position, int64_t now_ms) {
  set_.bindText(1, source).bindText(2, position).bind(3, now_ms);
  return set_.run();
}

Result<std::optional<std::string>> CheckpointStore::get(std::string_view source) {
  get_.bindText(1, source);
  auto row = get_.step();
  if (!row) return row.error();
  std::optional<std::string> out;
  if (*row) out = std::string(get_.columnText(0));
  get_.reset();
  return out;
}

Result<std::map<std::string, std::string>> CheckpointStore::all() {
  std::map<std::string, std::string> out;
  for (;;) {
    auto row = all_.step();
    if (!row) return row.error();
    if (!*row) break;
    out.emplace(all_.columnText(0), all_.columnText(1));
  }
  all_.reset();
  return out;
}

}  // namespace t0w
