// RAII wrappers around a SQLite connection and its prepared statements. Every failure becomes a
// sie::Error that names the operation, carries SQLite's own message, and has the database path
// as its place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "sie/result.h"

namespace sie::state {

// Errc::kCorrupt for a damaged or foreign file (SQLITE_CORRUPT, SQLITE_NOTADB), Errc::kIo for
// everything else. `op` says what was being done: "insert reading", "open".
Error sqliteError(sqlite3* db, int rc, std::string_view op, std::string_view path);

// A prepared statement. Not thread-safe: used by one thread at a time, like its connection.
// Bind errors are remembered and reported by the next step().
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3_stmt* stmt, std::string op, std::string path);
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Parameters are 1-based. Text and blobs are copied only if the statement outlives them
  // (SQLITE_STATIC): callers bind, step and reset while the data is alive.
  Stmt& bind(int index, std::int64_t value);
  Stmt& bind(int index, double value);
  Stmt& bindText(int index, std::string_view value);
  Stmt& bindBlob(int index, const void* data, std::size_t size);
  Stmt& bindNull(int index);

  // true: a row is ready; false: the statement is done.
  Result<bool> step();
  // Steps to completion (for INSERT/UPDATE/DELETE) and resets.
  Status run();
  // Resets and clears bindings, ending any read transaction the statement holds.
  void reset();

  [[nodiscard]] bool isNull(int col) const;
  [[nodiscard]] std::int64_t int64(int col) const;
  [[nodiscard]] double real(int col) const;
  [[nodiscard]] std::string_view text(int col) const;
  [[nodiscard]] std::span<const std::byte> blob(int col) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  std::string op_;
  std::string path_;
  int bind_rc_ = SQLITE_OK;
};

// Resets a statement when the scope ends, so no read snapshot outlives its query.
class StmtReset {
 public:
  explicit StmtReset(Stmt& stmt) : stmt_(stmt) {}
  StmtReset(const StmtReset&) = delete;
  StmtReset& operator=(const StmtReset&) = delete;
  ~StmtReset() { stmt_.reset(); }

 private:
  Stmt& stmt_;
};

// One connection. Movable, closes on destruction (statements may outlive it: the connection is
// released once they are finalized).
class Db {
 public:
  // flags: SQLITE_OPEN_* (READONLY or READWRITE|CREATE; NOMUTEX is added).
  static Result<Db> open(const std::string& path, int flags);

  Db() = default;
  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Runs one or more statements that return no rows needed by the caller.
  Status exec(std::string_view sql, std::string_view op);
  Result<Stmt> prepare(std::string_view sql, std::string_view op);
  // A single integer from a one-row query; nullopt when it returns no row or NULL.
  Result<std::optional<std::int64_t>> queryInt(std::string_view sql, std::string_view op);

  [[nodiscard]] bool inTransaction() const;
  [[nodiscard]] sqlite3* handle() const { return db_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  void close();

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace sie::state
