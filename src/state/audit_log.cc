#include "state/audit_log.h"

#include <shared_mutex>

#include <spdlog/spdlog.h>

#include "state/schema.h"

namespace sie::state {

EmbeddedAuditLog::EmbeddedAuditLog(StoreContext& context)
    : context_(context),
      writes_total_(metrics().counter("sie_state_writes_total", "State writes committed",
                                      {{"kind", "audit"}})) {}

Result<std::unique_ptr<EmbeddedAuditLog>> EmbeddedAuditLog::create(StoreContext& context) {
  std::unique_ptr<EmbeddedAuditLog> log(new EmbeddedAuditLog(context));
  Db& writer = context.batcher->db();
  const std::optional<AuditHead> head = SIE_TRY(readAuditHead(writer));
  const std::vector<AuditRecord> last = SIE_TRY(readAuditTail(writer, 1));
  if (head && (last.empty() || head->seq >= last.front().seq)) {
    // The checkpoint wins over the table: if records were removed, new ones must not paper over
    // the gap, so `sie audit verify` keeps reporting it.
    log->head_ = *head;
  } else if (!last.empty()) {
    spdlog::warn(
        "state: audit chain head checkpoint {} (records up to {}); continuing after "
        "record {}; `sie audit verify` reports the damage",
        head ? "is behind the stored records" : "is missing", last.front().seq, last.front().seq);
    log->head_ = AuditHead{last.front().seq, last.front().hash};
  }
  log->insert_stmt_ =
      SIE_TRY(writer.prepare("INSERT INTO audit(seq, ts_ns, kind, subject, body, prev_hash, hash) "
                             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                             "insert audit record"));
  log->head_seq_stmt_ = SIE_TRY(prepareHeadSeqWrite(writer));
  log->head_hash_stmt_ = SIE_TRY(prepareHeadHashWrite(writer));
  return log;
}

Result<std::int64_t> EmbeddedAuditLog::append(std::string_view kind, std::string_view subject,
                                              std::string_view body) {
  SIE_CHECK(context_.checkOpen());
  std::int64_t seq = 0;
  {
    std::lock_guard lock(mu_);
    AuditRecord r;
    r.seq = seq = head_.seq + 1;
    r.ts_ns = context_.clock->nowNs();
    r.kind = kind;
    r.subject = subject;
    r.body = body;
    r.prev_hash = head_.hash;
    r.hash = auditHash(r.prev_hash, r.seq, r.ts_ns, r.kind, r.subject, r.body);
    head_ = AuditHead{r.seq, r.hash};
    records_.pending.push_back(std::move(r));
  }
  context_.batcher->noteWrites(1);
  return seq;
}

Result<std::vector<AuditRecord>> EmbeddedAuditLog::tail(std::size_t n) {
  SIE_CHECK(context_.checkOpen());
  std::shared_lock no_commit(context_.batcher->commitLock());
  std::vector<AuditRecord> unwritten;
  {
    std::lock_guard lock(mu_);
    unwritten = records_.in_flight;
    unwritten.insert(unwritten.end(), records_.pending.begin(), records_.pending.end());
  }
  if (unwritten.size() >= n) {
    unwritten.erase(unwritten.begin(), unwritten.end() - static_cast<std::ptrdiff_t>(n));
    return unwritten;
  }
  std::vector<AuditRecord> out;
  {
    // Uncommitted records are newer than every committed one.
    std::lock_guard lock(context_.reader_mu);
    out = SIE_TRY(readAuditTail(context_.reader, n - unwritten.size()));
  }
  out.insert(out.end(), unwritten.begin(), unwritten.end());
  return out;
}

Result<AuditVerifyReport> EmbeddedAuditLog::verify() {
  SIE_CHECK(context_.checkOpen());
  SIE_CHECK(context_.batcher->sync());
  // A connection of its own: walking a long chain must not hold up other readers.
  Db db = SIE_TRY(Db::open(context_.reader.path(), SQLITE_OPEN_READONLY));
  SIE_CHECK(prepareReader(db));
  return verifyAuditChain(db);
}

Status EmbeddedAuditLog::writePending(Db& /*db*/) {
  {
    std::lock_guard lock(mu_);
    records_.take();
  }
  written_ = 0;
  if (records_.in_flight.empty()) return ok();
  for (const AuditRecord& r : records_.in_flight) {
    SIE_CHECK(insert_stmt_.bind(1, r.seq)
                  .bind(2, r.ts_ns)
                  .bindText(3, r.kind)
                  .bindText(4, r.subject)
                  .bindText(5, r.body)
                  .bindText(6, r.prev_hash)
                  .bindText(7, r.hash)
                  .run());
  }
  const AuditRecord& newest = records_.in_flight.back();
  SIE_CHECK(head_seq_stmt_.bind(1, newest.seq).run());
  SIE_CHECK(head_hash_stmt_.bindText(1, newest.hash).run());
  written_ = records_.in_flight.size();
  return ok();
}

void EmbeddedAuditLog::commitDone() {
  {
    std::lock_guard lock(mu_);
    records_.committed();
  }
  writes_total_.inc(written_);
}

}  // namespace sie::state
