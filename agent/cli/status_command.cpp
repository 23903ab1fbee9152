#include "agent/cli/status_command.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include "agent/config/agent_config.h"

namespace t0w::cli {
namespace {

using Json = nlohmann::ordered_json;

// A read-only connection: this command must never change (or create) the agent's database.
class ReadOnlyDb {
 public:
  static Result<std::unique_ptr<ReadOnlyDb>> open(const std::filesystem::path& path) {
    if (!std::filesystem::exists(path)) {
      return makeError(Errc::kNotFound, path.string() + ": no queue database (has the agent run?)");
    }
    sqlite3* db = nullptr;
    // SQLite takes UTF-8 file names (path::c_str() is UTF-16 on Windows).
    const std::u8string name = path.u8string();
    const int rc = sqlite3_open_v2(reinterpret_cast<const char*>(name.c_str()), &db,
                                   SQLITE_OPEN_READONLY, nullptr);
    auto out = std::unique_ptr<ReadOnlyDb>(new ReadOnlyDb(db, path.string()));
    if (rc != SQLITE_OK) return out->error("open");
    sqlite3_busy_timeout(db, 2000);
    return out;
  }
  ~ReadOnlyDb() {
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }

  // Every query after this reads the same snapshot (one read transaction, WAL): without it the
  // checkpoints could be read after a commit that the queue's figures, read before, missed, and
  // a source would show "complete" with its last batch neither queued nor shipped.
  Status beginSnapshot() {
    return query("BEGIN", [](sqlite3_stmt*) {});
  }

  // Runs a query and calls row(stmt) for each row.
  template <typename Fn>
  Status query(const char* sql, Fn&& row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) return error(sql);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(stmt, sqlite3_finalize);
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) return {};
      if (rc != SQLITE_ROW) return error(sql);
      row(stmt);
    }
  }
  bool hasTable(const char* name) {
    bool found = false;
    (void)query(
        ("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '" + std::string(name) + "'")
            .c_str(),
        [&](sqlite3_stmt*) { found = true; });
    return found;
  }

 private:
  ReadOnlyDb(sqlite3* db, std::string file) : db_(db), file_(std::move(file)) {}
  Error error(std::string_view what) const {
    const int code = sqlite3_errcode(db_);
    return makeError(code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? Errc::kCorrupt : Errc::kIo,
                     file_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  std::string file_;
};

std::string text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
}

std::string humanBytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string humanAge(int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + " ms";
  const int64_t s = ms / 1000;
  if (s < 120) return std::to_string(s) + " s";
  if (s < 7200) return std::to_string(s / 60) + " min";
  return std::to_string(s / 3600) + " h";
}

// A number as the heartbeat JSON (and so the collector) has it; "-" when unknown.
std::string figure(const Json& v, const char* unit) {
  if (v.is_null()) return "-";
  return v.dump() + unit;
}

// A member of the heartbeat, or null when an older agent did not send it.
const Json& member(const Json& j, const char* key) {
  static const Json null_value;
  if (!j.is_object()) return null_value;
  auto it = j.find(key);
  return it == j.end() ? null_value : *it;
}

// The latest heartbeat: the figures the collector shows for this agent.
void printHeartbeat(const Json& hb, std::ostream& out) {
  if (!hb.is_object()) {
    out << "heartbeat:       (none yet)\n";
    return;
  }
  out << "heartbeat:       " << hb.value("time", "") << " (version " << hb.value("version", "")
      << ", up " << hb.value("uptime_seconds", 0) << " s, config "
      << member(hb, "config").value("origin", "") << " " << member(hb, "config").value("digest", "")
      << ")\n";
  const Json& p = member(hb, "process");
  if (p.is_object()) {
    out << "  process:       cpu " << figure(p["cpu_percent"], "%") << ", memory "
        << humanBytes(p.value("memory_bytes", uint64_t{0})) << " (peak "
        << humanBytes(p.value("peak_memory_bytes", uint64_t{0})) << ")"
        << (member(hb, "load").value("throttled", false) ? ", THROTTLED (over its ceiling)" : "")
        << "\n";
  }
  out << "  clock offset:  " << figure(member(hb, "clock_offset_ms"), " ms") << "\n";
  out << "  rules:         " << member(hb, "rules").value("loaded", 0) << " loaded, "
      << member(hb, "rules").value("rejected", 0) << " rejected\n";
  const Json& blocked = member(member(hb, "audit"), "rules_cannot_fire");
  if (blocked.is_array() && !blocked.empty()) {
    out << "  cannot fire:   " << blocked.size() << " rules (audit policy)\n";
    for (const auto& b : blocked) {
      out << "    " << b.value("rule", "") << ": " << b.value("reason", "") << "\n";
    }
  }
  out << "sources:";
  const Json& sources = member(hb, "sources");
  if (!sources.is_array() || sources.empty()) out << " none";
  out << "\n";
  for (const auto& s : sources) {
    out << "  " << s.value("name", "") << " (" << s.value("kind", "")
        << "): " << s.value("state", "");
    if (!s.value("detail", "").empty()) out << " (" << s.value("detail", "") << ")";
    out << "\n    position "
        << (s.value("last_position", "").empty() ? "-" : s.value("last_position", "")) << ", rate "
        << figure(member(s, "rate_per_second"), "/s") << ", lag "
        << figure(member(s, "lag_seconds"), " s") << ", time to wrap "
        << figure(member(s, "time_to_wrap_seconds"), " s") << ", events " << s.value("events", 0)
        << ", gaps " << figure(member(s, "gaps"), "") << "\n";
  }
}

void printHuman(const Json& st, std::ostream& out) {
  out << "agent id:        " << st["agent_id"].get<std::string>() << "\n";
  out << "queue:           " << st["queue"]["path"].get<std::string>() << "\n";
  const Json& q = st["queue"];
  if (q.contains("epoch")) out << "  epoch:         " << q["epoch"].get<std::string>() << "\n";
  out << "  depth:         " << q["events"].get<uint64_t>() << " records ("
      << q["priority_events"].get<uint64_t>() << " priority, " << q["leased_events"].get<uint64_t>()
      << " in upload), " << humanBytes(q["stored_bytes"].get<uint64_t>()) << " stored, "
      << humanBytes(q["raw_bytes"].get<uint64_t>()) << " raw\n";
  out << "  oldest:        "
      << (q["oldest_age_ms"].is_null() ? std::string("(empty)")
                                       : humanAge(q["oldest_age_ms"].get<int64_t>()) + " waiting")
      << "\n";
  out << "  dead letters:  " << st["dead_letter"]["chunks"].get<uint64_t>() << " chunks ("
      << st["dead_letter"]["records"].get<uint64_t>() << " records), pruned "
      << st["dead_letter"]["pruned_events"].get<uint64_t>() << " records\n";
  out << "drops (queue full):";
  if (st["drops"].empty()) out << " none";
  out << "\n";
  for (const auto& [source, d] : st["drops"].items()) {
    out << "  " << source << ": " << d["events"].get<uint64_t>() << " events in "
        << d["chunks"].get<uint64_t>() << " chunks\n";
  }
  out << "checkpoints:";
  if (st["checkpoints"].empty()) out << " none";
  out << "\n";
  for (const auto& [source, c] : st["checkpoints"].items()) {
    out << "  " << source << ": " << c["position"].get<std::string>() << "\n";
  }
  printHeartbeat(st["heartbeat"], out);
  const Json& last = st["shipper"]["last_outcome"];
  out << "last upload:     ";
  if (last.is_null()) {
    out << "(none yet)\n";
  } else {
    out << last.value("outcome", "?") << " (HTTP " << last.value("status", 0) << ", "
        << last.value("detail", "") << "), batch " << last.value("batch_id", "") << ", "
        << last.value("records", 0) << " records";
    if (last.contains("age_ms")) out << ", " << humanAge(last["age_ms"].get<int64_t>()) << " ago";
    out << "\n";
  }
}

struct StatusArgs {
  std::string config;
  std::string state_dir;
  bool json = false;
};

}  // namespace

Result<Json> readAgentStatus(const std::filesystem::path& state_dir, int64_t now_ms) {
  const std::filesystem::path path = state_dir / "queue.db";
  auto db = ReadOnlyDb::open(path);
  if (!db) return db.error();
  if (Status snap = (*db)->beginSnapshot(); !snap) return snap.error();
  Json st;
  std::string agent_id;
  if (std::ifstream in(state_dir / "agent-id"); in) std::getline(in, agent_id);
  st["agent_id"] = agent_id.empty() ? "(not stored: configured or never started)" : agent_id;
  Json q;
  q["path"] = path.string();
  // Lease state moved out of `chunks` in queue schema 5; an agent not yet restarted after its
  // upgrade still has it there.
  const std::string sql =
      std::string(
          "SELECT count(*), total(record_count), total(length(payload)), "
          "total(raw_bytes), min(created_ms), "
          "total(CASE WHEN lane = 0 THEN record_count END), ") +
      ((*db)->hasTable("chunk_leases")
           ? "total(CASE WHEN l.lease_id IS NOT NULL THEN record_count END) FROM chunks c "
             "LEFT JOIN chunk_leases l ON l.chunk_id = c.id"
           : "total(CASE WHEN lease_id IS NOT NULL THEN record_count END) FROM chunks");
  Status s = (*db)->query(sql.c_str(), [&](sqlite3_stmt* r) {
    q["chunks"] = sqlite3_column_int64(r, 0);
    q["events"] = static_cast<uint64_t>(sqlite3_column_double(r, 1));
    q["stored_bytes"] = static_cast<uint64_t>(sqlite3_column_double(r, 2));
    q["raw_bytes"] = static_cast<uint64_t>(sqlite3_column_double(r, 3));
    q["priority_events"] = static_cast<uint64_t>(sqlite3_column_double(r, 5));
    q["leased_events"] = static_cast<uint64_t>(sqlite3_column_double(r, 6));
    if (sqlite3_column_type(r, 4) == SQLITE_NULL) {
      q["oldest_age_ms"] = nullptr;
    } else {
      q["oldest_age_ms"] = std::max<int64_t>(0, now_ms - sqlite3_column_int64(r, 4));
    }
  });
  if (!s) return s.error();
  st["queue"] = q;
  Json drops = Json::object();
  if ((*db)->hasTable("drops")) {
    s = (*db)->query("SELECT source, events, chunks FROM drops ORDER BY source",
                     [&](sqlite3_stmt* r) {
                       drops[text(r, 0)] = {{"events", sqlite3_column_int64(r, 1)},
                                            {"chunks", sqlite3_column_int64(r, 2)}};
                     });
    if (!s) return s.error();
  }
  st["drops"] = drops;
  Json dl = {{"chunks", 0}, {"records", 0}, {"pruned_chunks", 0}, {"pruned_events", 0}};
  if ((*db)->hasTable("dead_letter")) {
    s = (*db)->query("SELECT count(*), total(record_count) FROM dead_letter", [&](sqlite3_stmt* r) {
      dl["chunks"] = sqlite3_column_int64(r, 0);
      dl["records"] = static_cast<uint64_t>(sqlite3_column_double(r, 1));
    });
    if (!s) return s.error();
  }
  s = (*db)->query(
      "SELECT name, value FROM meta WHERE name IN ('dead_letter_pruned_chunks', "
      "'dead_letter_pruned_events', 'corrupt_chunks', 'queue_epoch')",
      [&](sqlite3_stmt* r) {
        const std::string name = text(r, 0);
        const int64_t v = sqlite3_column_int64(r, 1);
        if (name == "queue_epoch") {
          char hex[17];
          std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(v));
          q["epoch"] = hex;
        }
        if (name == "dead_letter_pruned_chunks") dl["pruned_chunks"] = v;
        if (name == "dead_letter_pruned_events") dl["pruned_events"] = v;
        if (name == "corrupt_chunks") dl["corrupt_chunks"] = v;
      });
  if (!s) return s.error();
  st["queue"] = q;
  st["dead_letter"] = dl;
  Json cps = Json::object();
  s = (*db)->query(
      "SELECT source, position, updated_ms FROM checkpoints ORDER BY source", [&](sqlite3_stmt* r) {
        cps[text(r, 0)] = {{"position", text(r, 1)}, {"updated_ms", sqlite3_column_int64(r, 2)}};
      });
  if (!s) return s.error();
  st["checkpoints"] = cps;
  Json shipper = {{"last_outcome", nullptr}};
  if ((*db)->hasTable("agent_status")) {
    s = (*db)->query(
        "SELECT value, updated_ms FROM agent_status WHERE name = 'shipper.last_outcome'",
        [&](sqlite3_stmt* r) {
          Json v = Json::parse(text(r, 0), nullptr, false);
          if (v.is_object()) {
            v["age_ms"] = std::max<int64_t>(0, now_ms - sqlite3_column_int64(r, 1));
            shipper["last_outcome"] = v;
          }
        });
    if (!s) return s.error();
  }
  st["shipper"] = shipper;
  st["heartbeat"] = nullptr;
  if ((*db)->hasTable("agent_status")) {
    s = (*db)->query("SELECT value FROM agent_status WHERE name = 'agent.heartbeat'",
                     [&](sqlite3_stmt* r) {
                       Json v = Json::parse(text(r, 0), nullptr, false);
                       if (v.is_object()) st["heartbeat"] = v;
                     });
    if (!s) return s.error();
  }
  return st;
}

void registerStatusCommand(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<StatusArgs>();
  CLI::App* cmd = app.add_subcommand(
      "status",
      "Show the agent's queue (depth, oldest record, drops, dead letters, checkpoints, last "
      "upload) and its latest heartbeat (each source's state, position, rate, lag, time to "
      "wrap; CPU, memory, clock offset) (read-only; works while the agent runs)");
  auto* config = cmd->add_option("--config", args->config, "Agent configuration (YAML)")
                     ->check(CLI::ExistingFile);
  cmd->add_option("--state-dir", args->state_dir, "The agent's state directory")->excludes(config);
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->callback([args, &ctx] {
    std::filesystem::path state_dir = args->state_dir;
    if (!args->config.empty()) {
      auto c = loadConfigFile(args->config);
      if (!c) {
        ctx.io.err << "tier0watch status: " << c.error().message << "\n";
        ctx.exit_code = kExitUsage;
        return;
      }
      state_dir = c->state_dir;
    }
    if (state_dir.empty()) {
      ctx.io.err << "tier0watch status: give --config FILE or --state-dir DIR\n";
      ctx.exit_code = kExitUsage;
      return;
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto st = readAgentStatus(state_dir, now);
    if (!st) {
      ctx.io.err << "tier0watch status: " << st.error().message << "\n";
      ctx.exit_code = kExitInputErrors;
      return;
    }
    if (args->json) {
      ctx.io.out << st->dump(2) << "\n";
    } else {
      printHuman(*st, ctx.io.out);
    }
  });
}

}  // namespace t0w::cli
