#include "state/audit_chain.h"

#include <algorithm>
#include <array>
#include <limits>
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

AuditVerifyReport broken(std::int64_t checked, std::int64_t seq, std::string problem) {
  return AuditVerifyReport{false, checked, seq, std::move(problem)};
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

Result<AuditVerifyReport> verifyAuditChain(Db& db) {
  // One read transaction, so the records and the head come from the same snapshot.
  SIE_CHECK(db.exec("BEGIN", "begin audit verification"));
  struct EndRead {
    Db& db;
    ~EndRead() { (void)db.exec("COMMIT", "end audit verification"); }
  } end_read{db};

  const std::optional<AuditHead> head = SIE_TRY(readAuditHead(db));
  Stmt walk = SIE_TRY(
      db.prepare("SELECT seq, ts_ns, kind, subject, body, prev_hash, hash FROM audit ORDER BY seq",
                 "read audit chain"));
  std::int64_t expected = 1;
  std::string prev(kGenesisHash);
  while (SIE_TRY(walk.step())) {
    const std::int64_t checked = expected - 1;
    const std::int64_t seq = walk.int64(0);
    if (seq != expected) {
      return broken(checked, expected,
                    fmt::format("record {}: missing (removed?); the next stored record is {}",
                                expected, seq));
    }
    if (walk.text(5) != prev) {
      return broken(checked, seq,
                    fmt::format("record {}: prev_hash does not match the hash of record {} "
                                "(reordered or replaced?)",
                                seq, seq - 1));
    }
    const std::string hash =
        auditHash(prev, seq, walk.int64(1), walk.text(2), walk.text(3), walk.text(4));
    if (walk.text(6) != hash) {
      return broken(checked, seq,
                    fmt::format("record {}: hash does not match its contents (altered?)", seq));
    }
    prev = hash;
    ++expected;
  }
  const std::int64_t last = expected - 1;
  if (!head) {
    if (last == 0) return AuditVerifyReport{};
    return broken(last - 1, last,
                  fmt::format("record {}: the chain head checkpoint is missing (tampered?)", last));
  }
  if (head->seq > last) {
    return broken(last, last + 1,
                  fmt::format("record {}: missing (removed?); the chain head checkpoint is "
                              "record {}",
                              last + 1, head->seq));
  }
  if (head->seq < last) {
    return broken(head->seq, head->seq + 1,
                  fmt::format("record {}: not covered by the chain head checkpoint (inserted?)",
                              head->seq + 1));
  }
  if (head->hash != prev) {
    return broken(last - 1, last,
                  fmt::format("record {}: hash differs from the chain head checkpoint "
                              "(altered?)",
                              last));
  }
  return AuditVerifyReport{true, last, 0, ""};
}

}  // namespace sie::state
