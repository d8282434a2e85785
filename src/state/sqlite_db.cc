#include "state/sqlite_db.h"

#include <utility>

#include <fmt/format.h>

namespace sie::state {

Error sqliteError(sqlite3* db, int rc, std::string_view op, std::string_view path) {
  const int primary = rc & 0xff;
  const Errc code =
      primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB ? Errc::kCorrupt : Errc::kIo;
  // The connection's message is more specific than the code's, when it belongs to this error.
  const char* detail =
      db != nullptr && sqlite3_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error{code, fmt::format("sqlite: {} failed: {}", op, detail), std::string(path)};
}

Stmt::Stmt(sqlite3_stmt* stmt, std::string op, std::string path)
    : stmt_(stmt), op_(std::move(op)), path_(std::move(path)) {}

Stmt::Stmt(Stmt&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      op_(std::move(other.op_)),
      path_(std::move(other.path_)),
      bind_rc_(other.bind_rc_) {}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    op_ = std::move(other.op_);
    path_ = std::move(other.path_);
    bind_rc_ = other.bind_rc_;
  }
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Stmt& Stmt::bind(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Stmt& Stmt::bindText(int index, std::string_view value) {
  const int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Stmt& Stmt::bindBlob(int index, const void* data, std::size_t size) {
  // A zero-length blob must still be a blob, not NULL: SQLite needs a non-null pointer for that.
  static const char kEmpty = 0;
  const int rc = sqlite3_bind_blob64(stmt_, index, size == 0 ? &kEmpty : data, size, SQLITE_STATIC);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Stmt& Stmt::bindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Result<bool> Stmt::step() {
  if (bind_rc_ != SQLITE_OK) {
    const int rc = std::exchange(bind_rc_, SQLITE_OK);
    return tl::unexpected(sqliteError(nullptr, rc, op_ + " (bind)", path_));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return tl::unexpected(sqliteError(sqlite3_db_handle(stmt_), rc, op_, path_));
}

Status Stmt::run() {
  StmtReset reset_on_exit(*this);
  for (;;) {
    auto more = step();
    if (!more) return tl::unexpected(more.error());
    if (!*more) return ok();
  }
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

bool Stmt::isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::int64_t Stmt::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

double Stmt::real(int col) const { return sqlite3_column_double(stmt_, col); }

std::string_view Stmt::text(int col) const {
  const auto* data = sqlite3_column_text(stmt_, col);
  const int size = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr) return {};
  return {reinterpret_cast<const char*>(data), static_cast<std::size_t>(size)};
}

std::span<const std::byte> Stmt::blob(int col) const {
  const void* data = sqlite3_column_blob(stmt_, col);
  const int size = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr) return {};
  return {static_cast<const std::byte*>(data), static_cast<std::size_t>(size)};
}

Result<Db> Db::open(const std::string& path, int flags) {
  Db db;
  db.path_ = path;
  const int rc = sqlite3_open_v2(path.c_str(), &db.db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error error = sqliteError(db.db_, rc, "open", path);
    db.close();
    return tl::unexpected(std::move(error));
  }
  sqlite3_extended_result_codes(db.db_, 1);
  return db;
}

Db::Db(Db&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Db::~Db() { close(); }

void Db::close() {
  // close_v2 defers the release until the last statement is finalized.
  if (db_ != nullptr) sqlite3_close_v2(std::exchange(db_, nullptr));
}

Status Db::exec(std::string_view sql, std::string_view op) {
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return tl::unexpected(sqliteError(db_, rc, op, path_));
  return ok();
}

Result<Stmt> Db::prepare(std::string_view sql, std::string_view op) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return tl::unexpected(sqliteError(db_, rc, fmt::format("prepare {}", op), path_));
  }
  return Stmt(stmt, std::string(op), path_);
}

Result<std::optional<std::int64_t>> Db::queryInt(std::string_view sql, std::string_view op) {
  Stmt stmt = SIE_TRY(prepare(sql, op));
  const bool row = SIE_TRY(stmt.step());
  if (!row || stmt.isNull(0)) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(stmt.int64(0));
}

bool Db::inTransaction() const { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }

}  // namespace sie::state
