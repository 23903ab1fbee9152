// SqliteDb: RAII owner of one SQLite connection, prepared Statements and a Transaction guard.
// Every failure becomes an Error naming the database file and the SQL operation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace t0w {

// Maps an SQLite result code to an Error: "<file>: <what>: <sqlite message> (<code name>)".
// SQLITE_CORRUPT and SQLITE_NOTADB become Errc::kCorrupt so that callers can quarantine.
Error sqliteError(sqlite3* db, int rc, std::string_view file, std::string_view what);

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3_stmt* stmt, std::string file, std::string what);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite. Text and blobs are copied (SQLITE_TRANSIENT).
  Statement& bind(int index, int64_t value);
  Statement& bindText(int index, std::string_view value);
  Statement& bindBlob(int index, std::string_view value);
  Statement& bindNull(int index);

  // true when a row is available, false when done.
  Result<bool> step();
  // Steps to completion (ignoring rows) and resets.
  Status run();
  // Resets for the next execution and clears bindings; errors were already reported by step().
  void reset();

  int64_t columnInt(int index) const;
  std::string_view columnText(int index) const;
  std::string_view columnBlob(int index) const;
  bool columnIsNull(int index) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  std::string file_;
  std::string what_;
};

// Resets a statement when leaving a scope, so that an early return never leaves it mid-step.
class StatementScope {
 public:
  explicit StatementScope(Statement& stmt) : stmt_(stmt) {}
  StatementScope(const StatementScope&) = delete;
  StatementScope& operator=(const StatementScope&) = delete;
  ~StatementScope() { stmt_.reset(); }

 private:
  Statement& stmt_;
};

class SqliteDb {
 public:
  // Opens (creating when absent) a database file. No pragmas are applied here.
  static Result<SqliteDb> open(const std::filesystem::path& path);

  SqliteDb(SqliteDb&& other) noexcept;
  SqliteDb& operator=(SqliteDb&& other) noexcept;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  // Runs one or more statements; `what` names the operation in errors.
  Status exec(std::string_view sql, std::string_view what);
  Result<Statement> prepare(std::string_view sql, std::string_view what);
  // First column of the first row of a single statement as an integer (0 when no row).
  Result<int64_t> queryInt(std::string_view sql, std::string_view what);
  // First column of the first row of a single statement as text (empty when no row).
  Result<std::string> queryText(std::string_view sql, std::string_view what);

  int64_t changes() const;
  const std::string& file() const { return file_; }
  sqlite3* handle() const { return db_; }

 private:
  SqliteDb(sqlite3* db, std::string file) : db_(db), file_(std::move(file)) {}
  sqlite3* db_ = nullptr;
  std::string file_;
};

// BEGIN IMMEDIATE on construction via begin(); rolls back on destruction unless committed.
class Transaction {
 public:
  static Result<Transaction> begin(SqliteDb& db, std::string_view what);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status commit();

 private:
  Transaction(SqliteDb* db, std::string what) : db_(db), what_(std::move(what)) {}
  SqliteDb* db_ = nullptr;
  std::string what_;
};

}  // namespace t0w
