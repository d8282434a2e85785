// The audit chain's format and checks, independent of the live log, so `sie audit verify` can
// run them on a database file while a node writes to it.
//
// Record n (seq 1, 2, 3, ...) stores
//   hash_n = hex(SHA-256(enc(prev_hash) | be64(seq) | be64(ts_ns) | enc(kind) | enc(subject) |
//                         enc(body)))
// where enc(s) = be64(byte length of s) | s, be64 is a big-endian 64-bit integer, and prev_hash is
// hash_(n-1) as 64 lowercase hex digits; for seq 1 it is 64 zeros (kGenesisHash). The length
// prefixes make the encoding unambiguous: no two different records hash the same bytes.
//
// The meta table keeps the chain head (the last seq and its hash), written in the same transaction
// as the records, so removing the newest records is detected as well.
//
// Checkpoint records (audit_checkpoint.h) sign the head with the node key; with trusted keys and
// the exported checkpoints, verification also detects a chain rewritten with fresh hashes, a cut
// tail with a rewritten head, and a deleted or replaced database. After retention pruned the
// oldest records, the chain starts at the first_seq of its newest checkpoint and chains from that
// checkpoint's from_hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/signing.h"
#include "sie/audit_seal.h"
#include "sie/state.h"
#include "state/audit_checkpoint.h"
#include "state/sqlite_db.h"

namespace sie::state {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditHead {
  std::int64_t seq = 0;
  std::string hash{kGenesisHash};
};

std::string auditHash(std::string_view prev_hash, std::int64_t seq, std::int64_t ts_ns,
                      std::string_view kind, std::string_view subject, std::string_view body);

// The head checkpoint from meta; nullopt when there is none.
Result<std::optional<AuditHead>> readAuditHead(Db& db);
// Statements that write the head checkpoint (bind ?1 = value) on `db`.
Result<Stmt> prepareHeadSeqWrite(Db& db);
Result<Stmt> prepareHeadHashWrite(Db& db);

// The newest `n` committed records, oldest first.
Result<std::vector<AuditRecord>> readAuditTail(Db& db, std::size_t n);

// What verification found, with how the chain is sealed.
struct AuditChainReport : AuditVerifyReport {
  std::int64_t first_seq = 1;    // the oldest record kept (older ones were pruned)
  std::int64_t checkpoints = 0;  // checkpoint records in the chain
  std::int64_t sealed_seq = 0;   // the newest checkpoint record; later ones are unsealed
};

struct AuditVerifyOptions {
  // Non-empty: every checkpoint must carry a valid signature by one of these keys, and a chain
  // with records must hold at least one.
  const TrustStore* trust = nullptr;
  // Checkpoints exported by the node: each one the database still covers must be in the chain as
  // exported, and none may be newer than the chain.
  const std::vector<AuditCheckpoint>* exported = nullptr;
};

// Walks every record in seq order and reports the first one that breaks the chain: a seq gap
// (removed), a prev_hash that is not the previous record's hash (reordered or replaced), a hash
// that does not match the contents (altered), or a head checkpoint that disagrees with the last
// record (newest records removed); then the checks of `options`.
Result<AuditChainReport> verifyAuditChain(Db& db, const AuditVerifyOptions& options = {});

// The checks against exported checkpoints alone, for when the database is gone.
AuditChainReport verifyMissingChain(const std::vector<AuditCheckpoint>& exported);

}  // namespace sie::state
