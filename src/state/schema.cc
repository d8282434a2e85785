#include "state/schema.h"

#include <fmt/format.h>

namespace sie::state {
namespace {

// WAL lets readers (lastN from disk, `sie audit verify` in another process) run while the writer
// commits. synchronous=NORMAL: a commit is in the WAL and survives a crash of the process
// (kill -9); the WAL is fsynced at checkpoints and whenever sync() asks for it (the writer then
// commits with synchronous=FULL), which is what makes sync() durable across power loss.
// journal_size_limit: after a burst, a checkpointed WAL shrinks back to at most 64 MiB.
constexpr std::string_view kWriterPragmas = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
PRAGMA busy_timeout=5000;
PRAGMA cache_size=-16384;
PRAGMA journal_size_limit=67108864;
PRAGMA foreign_keys=OFF;
)sql";

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sensors(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS readings(
  id INTEGER PRIMARY KEY,
  sensor_id INTEGER NOT NULL,
  ts_ns INTEGER NOT NULL,
  quality INTEGER NOT NULL,
  value REAL,
  block BLOB,
  period_ns INTEGER NOT NULL DEFAULT 0,
  flag TEXT);
CREATE INDEX IF NOT EXISTS readings_by_sensor_ts ON readings(sensor_id, ts_ns);
CREATE TABLE IF NOT EXISTS kv(
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL,
  expires_ns INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_by_expiry ON kv(expires_ns) WHERE expires_ns > 0;
CREATE TABLE IF NOT EXISTS dead_letters(
  id INTEGER PRIMARY KEY,
  ts_ns INTEGER NOT NULL,
  origin TEXT NOT NULL,
  reason TEXT NOT NULL,
  subject TEXT NOT NULL,
  payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS audit(
  seq INTEGER PRIMARY KEY,
  ts_ns INTEGER NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value) WITHOUT ROWID;
)sql";

// Version 1 files have no readings.flag (why a reading's quality is not good): added in place
// (SQLite adds a column without rewriting the table; old rows read NULL).
Status addFlagColumn(Db& db) {
  auto columns = SIE_TRY(db.prepare("PRAGMA table_info(readings)", "read readings columns"));
  while (SIE_TRY(columns.step())) {
    if (columns.text(1) == "flag") return ok();
  }
  columns.reset();
  return db.exec("ALTER TABLE readings ADD COLUMN flag TEXT", "add readings.flag");
}

}  // namespace

Status checkSchema(Db& db) {
  // The first read of the file: a foreign or damaged file fails here with kCorrupt.
  auto version = SIE_TRY(db.queryInt("PRAGMA user_version", "read schema version"));
  const std::int64_t v = version.value_or(0);
  if (v > kSchemaVersion) {
    return fail(Errc::kUnsupported,
                fmt::format("state database has schema version {}, newer than this sie ({})", v,
                            kSchemaVersion),
                db.path());
  }
  return ok();
}

Status prepareWriter(Db& db) {
  SIE_CHECK(checkSchema(db));
  SIE_CHECK(db.exec(kWriterPragmas, "configure connection"));
  auto mode = SIE_TRY(db.prepare("PRAGMA journal_mode", "read journal mode"));
  if (!SIE_TRY(mode.step()) || mode.text(0) != "wal") {
    return fail(Errc::kIo, "sqlite: could not switch the database to WAL mode", db.path());
  }
  mode.reset();
  SIE_CHECK(db.exec("BEGIN IMMEDIATE", "begin schema transaction"));
  Status created = db.exec(kSchema, "create schema");
  if (created) created = addFlagColumn(db);
  if (created) {
    created = db.exec(fmt::format("PRAGMA user_version={}", kSchemaVersion), "set schema version");
  }
  if (!created) {
    (void)db.exec("ROLLBACK", "rollback schema transaction");
    return created;
  }
  return db.exec("COMMIT", "commit schema");
}

Status prepareReader(Db& db) {
  return db.exec("PRAGMA busy_timeout=5000; PRAGMA query_only=1;", "configure reader");
}

}  // namespace sie::state
