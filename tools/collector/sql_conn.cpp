#include "tools/collector/sql_conn.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "common/sqlite/sqlite_db.h"

namespace t0w::collector {

int64_t sqlInt(const std::optional<std::string>& v) {
  if (!v) return 0;
  try {
    return std::stoll(*v);
  } catch (...) {
    return 0;
  }
}

std::optional<int64_t> sqlOptInt(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  return sqlInt(v);
}

SqlParam sqlOptParam(const std::optional<int64_t>& v) {
  return v ? SqlParam(*v) : SqlParam(std::monostate{});
}

bool configureSqliteForCollector() {
  const bool threads = sqlite3_config(SQLITE_CONFIG_MULTITHREAD) == SQLITE_OK;
  const bool memstatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  // Every INSERT of an ingest transaction may abort (NOT NULL, the usage trigger), so SQLite
  // keeps a statement journal: the original of each page the statement changes. Past 64 KiB
  // (SQLite's default) it becomes a temporary file, for the rest of the transaction: one
  // pwrite per page of every later statement, 95% of the collector's write syscalls and about
  // 30% of its CPU when it was found. So always in memory (-1): a statement's journal is the
  // pages one statement of at most a few hundred rows changes, freed when it ends. Not a larger
  // threshold: below it the journal is one chunk of that size, and at the spill SQLite 3.40
  // writes it with one write() that os_unix.c masks to 17 bits (`nBuf &= 0x1ffff`), so a 4 MiB
  // threshold wrote nothing and the statement failed with SQLITE_FULL (FTS5 hit it).
  const bool journal = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1) == SQLITE_OK;
  return threads && memstatus && journal;
}

namespace {

class SqliteConn final : public SqlConn {
 public:
  explicit SqliteConn(SqliteDb db) : db_(std::move(db)) {}
  ~SqliteConn() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  }

  Result<std::vector<SqlRow>> query(const std::string& sql,
                                    const std::vector<SqlParam>& params) override {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      const int rc = sqlite3_prepare_v2(db_.handle(), sql.c_str(), static_cast<int>(sql.size()),
                                        &stmt, nullptr);
      if (rc != SQLITE_OK) return sqliteError(db_.handle(), rc, db_.file(), "prepare");
      it = statements_.emplace(sql, stmt).first;
    }
    sqlite3_stmt* st = it->second;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      if (const auto* v = std::get_if<int64_t>(&params[i])) {
        sqlite3_bind_int64(st, index, *v);
      } else if (const auto* s = std::get_if<std::string>(&params[i])) {
        // Not copied: `params` outlives every step, and the bindings are cleared below.
        sqlite3_bind_text(st, index, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
      } else if (const auto* t = std::get_if<SqlText>(&params[i])) {
        sqlite3_bind_text(st, index, t->text.data(), static_cast<int>(t->text.size()),
                          SQLITE_STATIC);
      } else {
        sqlite3_bind_null(st, index);
      }
    }
    std::vector<SqlRow> rows;
    const int columns = sqlite3_column_count(st);
    for (;;) {
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        Error e = sqliteError(db_.handle(), rc, db_.file(), "query");
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return e;
      }
      SqlRow row(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (sqlite3_column_type(st, c) == SQLITE_NULL) continue;
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        row[static_cast<size_t>(c)] =
            std::string(text, static_cast<size_t>(sqlite3_column_bytes(st, c)));
      }
      rows.push_back(std::move(row));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);  // no binding may outlive `params`
    return rows;
  }

  Status script(const std::string& sql) override { return db_.exec(sql, "execute"); }
  Status begin() override { return db_.exec("BEGIN IMMEDIATE", "begin transaction"); }
  bool postgres() const override { return false; }

 private:
  SqliteDb db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> statements_;
};

std::string numberPlaceholders(const std::string& sql) {
  std::string out;
  int n = 0;
  bool in_literal = false;
  for (char c : sql) {
    if (c == '\'') in_literal = !in_literal;
    if (c == '?' && !in_literal) {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

struct PgResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultFree>;

class PostgresConn final : public SqlConn {
 public:
  explicit PostgresConn(PGconn* conn) : conn_(conn) {}
  ~PostgresConn() override { PQfinish(conn_); }

  Result<std::vector<SqlRow>> query(const std::string& sql,
                                    const std::vector<SqlParam>& params) override {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      // Built in two steps: GCC 12 -O2/-O3 reports a false -Wrestrict on "s" + to_string().
      std::string name = "s";
      name += std::to_string(prepared_.size() + 1);
      PgResult r(PQprepare(conn_, name.c_str(), numberPlaceholders(sql).c_str(), 0, nullptr));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return pgError("prepare", r.get());
      it = prepared_.emplace(sql, name).first;
    }
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      if (const auto* v = std::get_if<int64_t>(&params[i])) {
        texts[i] = std::to_string(*v);
        values[i] = texts[i].c_str();
      } else if (const auto* s = std::get_if<std::string>(&params[i])) {
        values[i] = s->c_str();
      } else if (const auto* t = std::get_if<SqlText>(&params[i])) {
        texts[i] = std::string(t->text);  // libpq reads text parameters up to their NUL
        values[i] = texts[i].c_str();
      }
    }
    PgResult r(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()),
                              values.data(), nullptr, nullptr, 0));
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return pgError("query", r.get());
    std::vector<SqlRow> rows;
    const int n = PQntuples(r.get());
    const int columns = PQnfields(r.get());
    rows.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      SqlRow row(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (!PQgetisnull(r.get(), i, c)) {
          row[static_cast<size_t>(c)] = std::string(
              PQgetvalue(r.get(), i, c), static_cast<size_t>(PQgetlength(r.get(), i, c)));
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Status script(const std::string& sql) override {
    PgResult r(PQexec(conn_, sql.c_str()));
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return pgError("execute", r.get());
    return {};
  }
  Status begin() override { return script("BEGIN"); }
  bool postgres() const override { return true; }

 private:
  Error pgError(const char* what, PGresult* r) {
    std::string msg = r != nullptr ? PQresultErrorMessage(r) : "";
    if (msg.empty()) msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    // 23505 unique_violation: the caller asked to create something that exists.
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const bool conflict = state != nullptr && std::string(state) == "23505";
    if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
    return makeError(conflict ? Errc::kInvalidArgument : Errc::kIo,
                     std::string("postgres: ") + what + ": " + msg);
  }
  PGconn* conn_;
  std::map<std::string, std::string, std::less<>> prepared_;
};

}  // namespace

Result<std::unique_ptr<SqlConn>> openSqliteConn(const std::string& path, bool full_sync) {
  // Created here, not by SQLite, so that it never exists with the umask's wider mode.
  if (const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600); fd >= 0) {
    ::close(fd);
  }
  auto db = SqliteDb::open(path);
  if (!db) return db.error();
  sqlite3_busy_timeout(db->handle(), 5000);
  // cache_size: 32 MiB of pages instead of SQLite's 2 MiB. The ingest inserts into five indexes
  // of `events`; with the default their pages were read again from the file (pread) batch after
  // batch. About 3 % of the collector's CPU per event (docs/performance.md); one connection.
  const std::string pragmas = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") +
                              (full_sync ? "FULL" : "NORMAL") +
                              "; PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768;";
  // SQLite does not call the busy handler for every lock it meets: a connection opening the
  // database while another instance's last connection checkpoints and removes the WAL was told
  // BUSY at once (StorageTest.InstancesStartingTogetherMigrateOnce, about 1 run in 8). Retried
  // for as long as the busy timeout would wait; the pragmas are idempotent.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    const int rc = sqlite3_exec(db->handle(), pragmas.c_str(), nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) break;
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) {
      return sqliteError(db->handle(), rc, path, "configure");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::unique_ptr<SqlConn>(new SqliteConn(std::move(*db)));
}

Result<std::unique_ptr<SqlConn>> openPostgresConn(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return makeError(Errc::kIo, "postgres: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    PQfinish(conn);
    // The connection string may hold a password: it is not repeated in the message.
    return makeError(Errc::kIo, "postgres: cannot connect: " + msg);
  }
  PGresult* r = PQexec(conn, "SET client_min_messages = warning");
  PQclear(r);
  return std::unique_ptr<SqlConn>(new PostgresConn(conn));
}

}  // namespace t0w::collector
