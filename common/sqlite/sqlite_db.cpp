#include "common/sqlite/sqlite_db.h"

#include <sqlite3.h>

#include <utility>

namespace t0w {

Error sqliteError(sqlite3* db, int rc, std::string_view file, std::string_view what) {
  const int primary = rc & 0xff;
  Errc code = Errc::kInternal;
  switch (primary) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = Errc::kCorrupt;
      break;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      code = Errc::kIo;
      break;
    case SQLITE_TOOBIG:
      code = Errc::kLimit;
      break;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      code = Errc::kInvalidArgument;
      break;
    default:
      break;
  }
  // sqlite3_errmsg describes the most recent failure on the connection, which for the calls we
  // make is this one; fall back to the generic text when there is no connection.
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string text(file);
  text += ": ";
  text += what;
  text += ": ";
  text += msg != nullptr ? msg : "unknown error";
  text += " (";
  text += sqlite3_errstr(rc);
  text += ", code ";
  text += std::to_string(rc);
  text += ")";
  return makeError(code, std::move(text));
}

// ---- Statement ----

Statement::Statement(sqlite3_stmt* stmt, std::string file, std::string what)
    : stmt_(stmt), file_(std::move(file)), what_(std::move(what)) {}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      file_(std::move(other.file_)),
      what_(std::move(other.what_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    file_ = std::move(other.file_);
    what_ = std::move(other.what_);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bindText(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Statement& Statement::bindBlob(int index, std::string_view value) {
  // A zero-length blob must not bind as NULL (the columns are NOT NULL).
  static const char kEmpty = 0;
  sqlite3_bind_blob64(stmt_, index, value.empty() ? &kEmpty : value.data(), value.size(),
                      SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error err = sqliteError(sqlite3_db_handle(stmt_), rc, file_, what_);
  sqlite3_reset(stmt_);
  return err;
}

Status Statement::run() {
  for (;;) {
    auto r = step();
    if (!r) {
      reset();
      return r.error();
    }
    if (!*r) break;
  }
  reset();
  return {};
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::columnInt(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string_view Statement::columnText(int index) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  const int n = sqlite3_column_bytes(stmt_, index);
  return p == nullptr ? std::string_view() : std::string_view(p, static_cast<size_t>(n));
}

std::string_view Statement::columnBlob(int index) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, index));
  const int n = sqlite3_column_bytes(stmt_, index);
  return p == nullptr ? std::string_view() : std::string_view(p, static_cast<size_t>(n));
}

bool Statement::columnIsNull(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

// ---- SqliteDb ----

Result<SqliteDb> SqliteDb::open(const std::filesystem::path& path) {
  const std::string file = path.string();
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error err = sqliteError(db, rc, file, "open");
    sqlite3_close_v2(db);
    return err;
  }
  sqlite3_extended_result_codes(db, 1);
  // Readers such as `tier0watch status` briefly lock the file (e.g. while WAL recovery runs at
  // their open); wait for them rather than failing the agent's start with SQLITE_BUSY.
  sqlite3_busy_timeout(db, 5000);
  return SqliteDb(db, file);
}

SqliteDb::SqliteDb(SqliteDb&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), file_(std::move(other.file_)) {}

SqliteDb& SqliteDb::operator=(SqliteDb&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    file_ = std::move(other.file_);
  }
  return *this;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

Status SqliteDb::exec(std::string_view sql, std::string_view what) {
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqliteError(db_, rc, file_, what);
  return {};
}

Result<Statement> SqliteDb::prepare(std::string_view sql, std::string_view what) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return sqliteError(db_, rc, file_, what);
  }
  return Statement(stmt, file_, std::string(what));
}

Result<int64_t> SqliteDb::queryInt(std::string_view sql, std::string_view what) {
  auto stmt = prepare(sql, what);
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  return *row ? stmt->columnInt(0) : int64_t{0};
}

Result<std::string> SqliteDb::queryText(std::string_view sql, std::string_view what) {
  auto stmt = prepare(sql, what);
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  return *row ? std::string(stmt->columnText(0)) : std::string();
}

int64_t SqliteDb::changes() const { return sqlite3_changes64(db_); }

// ---- Transaction ----

Result<Transaction> Transaction::begin(SqliteDb& db, std::string_view what) {
  // IMMEDIATE takes the write lock up front: a transaction never fails half-way on lock upgrade.
  if (Status s = db.exec("BEGIN IMMEDIATE", std::string("begin ") + std::string(what)); !s) {
    return s.error();
  }
  return Transaction(&db, std::string(what));
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), what_(std::move(other.what_)) {}

Transaction::~Transaction() {
  if (db_ != nullptr) {
    // Rollback fails only when SQLite already rolled back (e.g. SQLITE_FULL); nothing to undo.
    (void)db_->exec("ROLLBACK", "rollback " + what_);
    // A full disk (or file size limit) stops the WAL from growing, and SQLite checkpoints only
    // after a successful commit: the WAL would stay full and nothing, not even the delete of an
    // acknowledged batch, could commit again. Copying it into the database file and truncating
    // it now gives the next attempt room (a busy reader makes this a no-op; it is retried then).
    (void)db_->exec("PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint after a failed " + what_);
  }
}

Status Transaction::commit() {
  if (db_ == nullptr) return makeError(Errc::kInternal, "commit of a finished transaction");
  Status s = db_->exec("COMMIT", "commit " + what_);
  if (s) db_ = nullptr;  // on failure the destructor rolls back
  return s;
}

}  // namespace t0w
