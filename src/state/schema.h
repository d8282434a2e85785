// The embedded backend's SQLite schema and connection settings.
//
// Tables: sensors (name <-> integer id), readings (one row per reading; scalars in `value`,
// blocks as a BLOB of little-endian IEEE-754 doubles plus `period_ns`), kv, dead_letters, audit,
// and meta (the audit chain head checkpoint). PRAGMA user_version holds the schema version.
#pragma once

#include "state/sqlite_db.h"

namespace sie::state {

inline constexpr int kSchemaVersion = 2;  // 2: readings.flag

// Sets the writer connection's pragmas (WAL, synchronous=NORMAL, busy timeout) and creates or
// checks the schema. Fails with Errc::kCorrupt for a file that is not a SQLite database and with
// Errc::kUnsupported for a schema newer than this binary knows.
Status prepareWriter(Db& db);

// Settings for a connection that only reads (busy timeout; refuses writes).
Status prepareReader(Db& db);

// Checks that `db` holds a sie state database of a known schema version.
Status checkSchema(Db& db);

}  // namespace sie::state
