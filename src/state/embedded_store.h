// The embedded state backend: memory in front of one SQLite database in WAL mode, with one
// writer thread that commits accepted writes in batches.
//
// Durability promise:
//  - A write is accepted when its call returns; it is visible to reads from every thread at once.
//  - It is committed to the WAL within about batch_interval (or sooner when batch_max writes are
//    pending). A committed write survives a crash of the process (kill -9), not necessarily a
//    power loss: batches commit with synchronous=NORMAL and are not fsynced.
//  - sync() returns once everything accepted before the call is committed and fsynced: it then
//    survives power loss too.
//  - A KV write commits in the same transaction as the readings accepted after it, or earlier.
//  - close() (and the destructor) commits and fsyncs what is left, then stops the writer.
//
// One process at a time may open a data directory (a lock file guards it); `sie audit verify`
// reads it alongside through verifyAuditChain().
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sie/audit_seal.h"
#include "sie/clock.h"
#include "sie/result.h"
#include "sie/state.h"
#include "state/audit_chain.h"

namespace sie::state {

struct EmbeddedOptions {
  std::string data_dir;                          // created if missing; db file <data_dir>/sie.db
  std::chrono::milliseconds batch_interval{20};  // writer commits at least this often
  std::size_t batch_max = 4096;                  // or when this many writes are pending
  std::size_t memory_window = 2048;  // readings kept in memory per sensor for lastN/range
  // Pending writes beyond which TimeSeriesStore::append refuses with Errc::kOverload, so a
  // stalled disk cannot exhaust memory. KV, dead-letter and audit writes are never refused.
  std::size_t max_pending = std::size_t{1} << 20;
  const Clock* clock = nullptr;  // nullptr = systemClock(); for TTL and timestamps
  // Signed checkpoints, export and retention of the audit chain; nullopt: a hash chain only.
  // An empty key_file means <data_dir>/audit.key.
  std::optional<AuditSealOptions> audit_seal;
};

// The database file inside a data directory.
std::string databasePath(const std::string& data_dir);
// The node's audit key when none is configured (its public key is beside it, with ".pub").
std::string defaultAuditKeyPath(const std::string& data_dir);

// Opens (creating if needed) the state in options.data_dir. A file that is not a sie state
// database fails with Errc::kCorrupt; another process holding the directory, with Errc::kIo.
Result<std::unique_ptr<StateStore>> openEmbedded(const EmbeddedOptions& options);

// Opens <data_dir>/sie.db read-only and verifies the audit chain (for `sie audit verify`).
// Errc::kNotFound when there is no database.
Result<AuditChainReport> verifyAuditChain(const std::string& data_dir,
                                          const AuditVerifyOptions& options = {});

// The newest `n` committed audit records, oldest first, read-only (for `sie audit tail`).
Result<std::vector<AuditRecord>> readAuditTail(const std::string& data_dir, std::size_t n);

}  // namespace sie::state
