#include "state/audit_chain.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace sie::state {
namespace {

constexpr std::string_view kHeadSeqKey = "audit_head_seq";
constexpr std::string_view kHeadHashKey = "audit_head_hash";

void updateInt(EVP_MD_CTX* ctx, std::uint64_t v) {
  std::array<unsigned char, 8> be{};
  for (int i = 7; i >= 0; --i) {
    be[static_cast<std::size_t>(i)] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
  EVP_DigestUpdate(ctx, be.data(), be.size());
}

void updateField(EVP_MD_CTX* ctx, std::string_view s) {
  updateInt(ctx, s.size());
  EVP_DigestUpdate(ctx, s.data(), s.size());
}

AuditChainReport broken(std::int64_t checked, std::int64_t seq, std::string problem) {
  AuditChainReport r;
  r.ok = false;
  r.records = checked;
  r.first_bad_seq = seq;
  r.problem = std::move(problem);
  return r;
}

}  // namespace

std::string auditHash(std::string_view prev_hash, std::int64_t seq, std::int64_t ts_ns,
                      std::string_view kind, std::string_view subject, std::string_view body) {
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  // SHA-256 fails only when OpenSSL cannot allocate; an empty hash then breaks the chain visibly.
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return {};
  updateField(ctx.get(), prev_hash);
  updateInt(ctx.get(), static_cast<std::uint64_t>(seq));
  updateInt(ctx.get(), static_cast<std::uint64_t>(ts_ns));
  updateField(ctx.get(), kind);
  updateField(ctx.get(), subject);
  updateField(ctx.get(), body);
  if (EVP_DigestFinal_ex(ctx.get(), digest.data(), &size) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(std::size_t{size} * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

Result<std::optional<AuditHead>> readAuditHead(Db& db) {
  Stmt query = SIE_TRY(
      db.prepare("SELECT key, value FROM meta WHERE key IN (?1, ?2)", "read audit chain head"));
  query.bindText(1, kHeadSeqKey).bindText(2, kHeadHashKey);
  std::optional<AuditHead> head;
  while (SIE_TRY(query.step())) {
    if (!head) head.emplace(AuditHead{0, ""});
    if (query.text(0) == kHeadSeqKey) {
      head->seq = query.int64(1);
    } else {
      head->hash = std::string(query.text(1));
    }
  }
  return head;
}

Result<Stmt> prepareHeadSeqWrite(Db& db) {
  return db.prepare(
      fmt::format("INSERT OR REPLACE INTO meta(key, value) VALUES('{}', ?1)", kHeadSeqKey),
      "write audit chain head");
}

Result<Stmt> prepareHeadHashWrite(Db& db) {
  return db.prepare(
      fmt::format("INSERT OR REPLACE INTO meta(key, value) VALUES('{}', ?1)", kHeadHashKey),
      "write audit chain head");
}

Result<std::vector<AuditRecord>> readAuditTail(Db& db, std::size_t n) {
  Stmt query = SIE_TRY(db.prepare(
      "SELECT seq, ts_ns, kind, subject, body, prev_hash, hash FROM audit ORDER BY seq DESC "
      "LIMIT ?1",
      "read audit tail"));
  query.bind(1, static_cast<std::int64_t>(
                    std::min<std::size_t>(n, std::numeric_limits<std::int64_t>::max())));
  std::vector<AuditRecord> out;
  while (SIE_TRY(query.step())) {
    AuditRecord r;
    r.seq = query.int64(0);
    r.ts_ns = query.int64(1);
    r.kind = query.text(2);
    r.subject = query.text(3);
    r.body = query.text(4);
    r.prev_hash = query.text(5);
    r.hash = query.text(6);
    out.push_back(std::move(r));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

namespace {

// The checks that need the whole walk: the chain's start against its newest checkpoint, the
// exported checkpoints, and the trusted signatures.
struct Sealing {
  std::int64_t first_seq = 0;
  std::string first_prev;
  std::map<std::int64_t, AuditCheckpoint> checkpoints;  // by their own record seq
};

std::optional<std::string> checkStart(const Sealing& s) {
  const AuditCheckpoint* newest = s.checkpoints.empty() ? nullptr : &s.checkpoints.rbegin()->second;
  const std::int64_t kept_from = newest != nullptr ? newest->first_seq : 1;
  if (s.first_seq > kept_from) {
    return fmt::format(
        "record {}: missing (removed?); the chain starts at record {}, but its newest checkpoint "
        "keeps records from {}",
        kept_from, s.first_seq, kept_from);
  }
  if (s.first_seq < kept_from) {
    return fmt::format(
        "record {}: kept although the newest checkpoint pruned records before {} "
        "(inserted?)",
        s.first_seq, kept_from);
  }
  if (newest != nullptr && newest->from_hash != s.first_prev) {
    return fmt::format(
        "record {}: prev_hash differs from the one its roll-over checkpoint "
        "states (replaced?)",
        s.first_seq);
  }
  return std::nullopt;
}

std::optional<std::string> checkExported(const Sealing& s, std::int64_t last,
                                         const std::vector<AuditCheckpoint>& exported,
                                         const TrustStore* trust) {
  for (const AuditCheckpoint& out : exported) {
    if (trust != nullptr && !trust->keys().empty()) {
      if (auto verified = verifyCheckpoint(out, *trust); !verified) {
        return fmt::format("exported checkpoint at record {}: {} (forged export?)", out.record,
                           verified.error().message);
      }
    }
    if (out.record > last) {
      return fmt::format(
          "record {}: missing; the exported checkpoint at record {} (sealing record "
          "{}) is newer than the chain's last record {} (truncated, or the "
          "database replaced?)",
          last + 1, out.record, out.seq, last);
    }
    if (out.record < s.first_seq) continue;  // pruned since, after a later checkpoint covered it
    const auto it = s.checkpoints.find(out.record);
    if (it == s.checkpoints.end() || it->second.seq != out.seq || it->second.head != out.head ||
        it->second.signature != out.signature) {
      return fmt::format(
          "record {}: differs from the exported checkpoint (rewritten or the "
          "database replaced?)",
          out.record);
    }
  }
  return std::nullopt;
}

}  // namespace

Result<AuditChainReport> verifyAuditChain(Db& db, const AuditVerifyOptions& options) {
  // One read transaction, so the records and the head come from the same snapshot.
  SIE_CHECK(db.exec("BEGIN", "begin audit verification"));
  struct EndRead {
    Db& db;
    ~EndRead() { (void)db.exec("COMMIT", "end audit verification"); }
  } end_read{db};
  const bool trusted = options.trust != nullptr && !options.trust->keys().empty();

  const std::optional<AuditHead> head = SIE_TRY(readAuditHead(db));
  Stmt walk = SIE_TRY(
      db.prepare("SELECT seq, ts_ns, kind, subject, body, prev_hash, hash FROM audit ORDER BY seq",
                 "read audit chain"));
  Sealing sealing;
  std::int64_t expected = 0;  // 0 until the first record
  std::string prev;
  const auto report = [&](std::int64_t checked, std::int64_t seq, std::string problem) {
    AuditChainReport r = broken(checked, seq, std::move(problem));
    r.first_seq = sealing.first_seq > 0 ? sealing.first_seq : 1;
    r.checkpoints = static_cast<std::int64_t>(sealing.checkpoints.size());
    return r;
  };
  while (SIE_TRY(walk.step())) {
    const std::int64_t seq = walk.int64(0);
    if (expected == 0) {
      // After pruning the chain starts later; checkStart() holds that start to a checkpoint.
      expected = seq;
      prev = std::string(walk.text(5));
      sealing.first_seq = seq;
      sealing.first_prev = prev;
      if (seq == 1 && prev != kGenesisHash) {
        return report(0, 1, "record 1: prev_hash is not the genesis hash (replaced?)");
      }
    }
    const std::int64_t checked = expected - sealing.first_seq;
    if (seq != expected) {
      return report(checked, expected,
                    fmt::format("record {}: missing (removed?); the next stored record is {}",
                                expected, seq));
    }
    if (walk.text(5) != prev) {
      return report(checked, seq,
                    fmt::format("record {}: prev_hash does not match the hash of record {} "
                                "(reordered or replaced?)",
                                seq, seq - 1));
    }
    const std::string hash =
        auditHash(prev, seq, walk.int64(1), walk.text(2), walk.text(3), walk.text(4));
    if (walk.text(6) != hash) {
      return report(checked, seq,
                    fmt::format("record {}: hash does not match its contents (altered?)", seq));
    }
    if (walk.text(2) == kCheckpointKind) {
      auto cp = parseCheckpoint(walk.text(4));
      if (!cp) return report(checked, seq, fmt::format("record {}: {}", seq, cp.error().message));
      if (cp->seq != seq - 1 || cp->head != prev) {
        return report(checked, seq,
                      fmt::format("record {}: the checkpoint seals record {} with a hash that is "
                                  "not the chain's (rewritten?)",
                                  seq, cp->seq));
      }
      if (trusted) {
        if (auto verified = verifyCheckpoint(*cp, *options.trust); !verified) {
          return report(checked, seq,
                        fmt::format("record {}: checkpoint signature refused: {} (forged, or the "
                                    "chain rewritten?)",
                                    seq, verified.error().message));
        }
      }
      cp->record = seq;
      sealing.checkpoints.emplace(seq, std::move(*cp));
    }
    prev = hash;
    ++expected;
  }
  const std::int64_t last = expected == 0 ? 0 : expected - 1;
  const std::int64_t count = expected == 0 ? 0 : expected - sealing.first_seq;
  if (!head) {
    if (count > 0) {
      return report(
          count - 1, last,
          fmt::format("record {}: the chain head checkpoint is missing (tampered?)", last));
    }
  } else if (head->seq > last) {
    return report(count, last + 1,
                  fmt::format("record {}: missing (removed?); the chain head checkpoint is "
                              "record {}",
                              last + 1, head->seq));
  } else if (head->seq < last) {
    return report(head->seq - sealing.first_seq + 1, head->seq + 1,
                  fmt::format("record {}: not covered by the chain head checkpoint (inserted?)",
                              head->seq + 1));
  } else if (head->hash != prev) {
    return report(count - 1, last,
                  fmt::format("record {}: hash differs from the chain head checkpoint "
                              "(altered?)",
                              last));
  }
  if (count > 0) {
    if (auto problem = checkStart(sealing)) return report(0, sealing.first_seq, *problem);
  }
  if (options.exported != nullptr) {
    if (auto problem = checkExported(sealing, last, *options.exported, options.trust)) {
      return report(0, 0, *problem);
    }
  }
  if (trusted && count > 0 && sealing.checkpoints.empty()) {
    return report(0, 0,
                  "no checkpoint signed by a trusted key: the chain was never sealed, or was "
                  "rewritten without its checkpoints");
  }
  AuditChainReport ok_report;
  ok_report.records = count;
  ok_report.first_seq = sealing.first_seq > 0 ? sealing.first_seq : 1;
  ok_report.checkpoints = static_cast<std::int64_t>(sealing.checkpoints.size());
  if (!sealing.checkpoints.empty()) ok_report.sealed_seq = sealing.checkpoints.rbegin()->first;
  return ok_report;
}

AuditChainReport verifyMissingChain(const std::vector<AuditCheckpoint>& exported) {
  if (exported.empty()) return AuditChainReport{};
  const AuditCheckpoint& newest = exported.back();
  return broken(0, 0,
                fmt::format("the database is missing, but checkpoints up to record {} were "
                            "exported (deleted or moved?)",
                            newest.record));
}

}  // namespace sie::state
