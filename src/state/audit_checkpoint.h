// Audit checkpoints: the node's signature over the chain head, stored in the chain itself as a
// record of kind "checkpoint" and exported to a file elsewhere.
//
// A checkpoint record at seq c seals record c-1: its body names that record's seq and hash (which
// is also the checkpoint record's own prev_hash), the time, the oldest record still kept
// (first_seq, older ones were pruned) with the hash it chains from, and an Ed25519 signature by the
// node key over checkpointSignedText(). Whoever rewrites the chain without the key cannot make a
// checkpoint that `sie audit verify --trust` accepts.
//
// Export file: one JSON object per line, the checkpoint body plus "record" (the checkpoint
// record's seq); appended and fsynced, never rewritten.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/signing.h"
#include "sie/result.h"

namespace sie::state {

inline constexpr std::string_view kCheckpointKind = "checkpoint";

struct AuditCheckpoint {
  std::int64_t seq = 0;  // the record it seals
  std::string head;      // that record's hash
  std::int64_t time_ns = 0;
  std::int64_t first_seq = 1;  // the oldest record kept
  std::string from_hash;       // prev_hash of record first_seq
  std::string key;             // key id of the signer
  std::string signature;       // base64 Ed25519 over checkpointSignedText()
  std::int64_t record = 0;     // the checkpoint record's own seq (export lines only)
};

// What the signature covers: every field but the signature, in a fixed text form.
std::string checkpointSignedText(const AuditCheckpoint& cp);

// The record body (JSON); with `with_record` the export line (no trailing newline).
std::string checkpointJson(const AuditCheckpoint& cp, bool with_record = false);
Result<AuditCheckpoint> parseCheckpoint(std::string_view json);

// Fills in key and signature with the Ed25519 private key at `key_file`.
Status signCheckpoint(AuditCheckpoint& cp, const std::string& key_file);
// Whether a key in `trust` signed `cp`; the error says why not.
Status verifyCheckpoint(const AuditCheckpoint& cp, const TrustStore& trust);

// Creates the node key at `key_file` (0600) and its public key at `<key_file>.pub` when the key
// does not exist yet.
Status ensureAuditKey(const std::string& key_file);

// Appends one line to the export file (created 0600) and fsyncs it.
Status appendCheckpointExport(const std::string& path, const AuditCheckpoint& cp,
                              const Env& env = Env::system());
// Every checkpoint in an export file, in file order. A malformed line fails with its number.
Result<std::vector<AuditCheckpoint>> readCheckpointExport(const std::string& path);

}  // namespace sie::state
