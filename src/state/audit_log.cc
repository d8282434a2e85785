#include "state/audit_log.h"

#include <algorithm>
#include <shared_mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "state/schema.h"

namespace sie::state {
namespace {

Counter& auditCounter(std::string_view name, std::string_view help) {
  return metrics().counter(name, help);
}

}  // namespace

EmbeddedAuditLog::EmbeddedAuditLog(StoreContext& context, std::optional<AuditSealOptions> seal)
    : context_(context),
      seal_(std::move(seal)),
      writes_total_(metrics().counter("sie_state_writes_total", "State writes committed",
                                      {{"kind", "audit"}})),
      checkpoints_total_(auditCounter("sie_audit_checkpoints_total",
                                      "Signed checkpoints appended to the audit chain")),
      checkpoint_errors_total_(
          auditCounter("sie_audit_checkpoint_errors_total",
                       "Audit checkpoints that could not be signed (retried on a later record)")),
      pruned_total_(auditCounter("sie_audit_pruned_records_total",
                                 "Audit records pruned by retention after a signed checkpoint")),
      export_errors_total_(
          auditCounter("sie_audit_export_errors_total",
                       "Failed appends of a checkpoint to the export file (retried)")) {}

Result<std::unique_ptr<EmbeddedAuditLog>> EmbeddedAuditLog::create(
    StoreContext& context, std::optional<AuditSealOptions> seal) {
  if (seal) {
    if (seal->key_file.empty()) {
      return fail(Errc::kInvalidArgument, "audit sealing needs a key file");
    }
    SIE_CHECK(ensureAuditKey(seal->key_file));
  }
  std::unique_ptr<EmbeddedAuditLog> log(new EmbeddedAuditLog(context, std::move(seal)));
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
  SIE_CHECK(log->loadSealState(writer));
  log->insert_stmt_ =
      SIE_TRY(writer.prepare("INSERT INTO audit(seq, ts_ns, kind, subject, body, prev_hash, hash) "
                             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                             "insert audit record"));
  log->prune_stmt_ =
      SIE_TRY(writer.prepare("DELETE FROM audit WHERE seq < ?1", "prune audit records"));
  log->head_seq_stmt_ = SIE_TRY(prepareHeadSeqWrite(writer));
  log->head_hash_stmt_ = SIE_TRY(prepareHeadHashWrite(writer));
  return log;
}

Status EmbeddedAuditLog::loadSealState(Db& db) {
  Stmt first = SIE_TRY(
      db.prepare("SELECT seq, prev_hash FROM audit ORDER BY seq LIMIT 1", "read audit start"));
  if (SIE_TRY(first.step())) {
    first_seq_ = first.int64(0);
    first_prev_ = std::string(first.text(1));
  }
  first.reset();
  Stmt newest = SIE_TRY(db.prepare(
      "SELECT seq FROM audit WHERE kind = ?1 ORDER BY seq DESC LIMIT 1", "read audit checkpoint"));
  newest.bindText(1, kCheckpointKind);
  if (SIE_TRY(newest.step())) checkpoint_seq_ = newest.int64(0);
  newest.reset();
  unsealed_since_ns_ = context_.clock->nowNs();
  return ok();
}

EmbeddedAuditLog::Staged& EmbeddedAuditLog::appendLocked(std::string_view kind,
                                                         std::string_view subject, std::string body,
                                                         std::int64_t now_ns) {
  if (head_.seq == checkpoint_seq_) unsealed_since_ns_ = now_ns;
  Staged& s = records_.pending.emplace_back();
  AuditRecord& r = s.record;
  r.seq = head_.seq + 1;
  r.ts_ns = now_ns;
  r.kind = kind;
  r.subject = subject;
  r.body = std::move(body);
  r.prev_hash = head_.hash;
  r.hash = auditHash(r.prev_hash, r.seq, r.ts_ns, r.kind, r.subject, r.body);
  head_ = AuditHead{r.seq, r.hash};
  return s;
}

Result<std::int64_t> EmbeddedAuditLog::append(std::string_view kind, std::string_view subject,
                                              std::string_view body) {
  SIE_CHECK(context_.checkOpen());
  std::int64_t seq = 0;
  std::size_t added = 0;
  {
    std::lock_guard lock(mu_);
    const std::size_t before = records_.pending.size();
    const std::int64_t now = context_.clock->nowNs();
    seq = appendLocked(kind, subject, std::string(body), now).record.seq;
    maybeSealLocked(now, /*force=*/false);
    added = records_.pending.size() - before;
  }
  context_.batcher->noteWrites(added);
  return seq;
}

void EmbeddedAuditLog::seal() {
  std::size_t added = 0;
  {
    std::lock_guard lock(mu_);
    const std::size_t before = records_.pending.size();
    maybeSealLocked(context_.clock->nowNs(), /*force=*/true);
    added = records_.pending.size() - before;
  }
  if (added > 0) context_.batcher->noteWrites(added);
}

void EmbeddedAuditLog::maybeSealLocked(std::int64_t now_ns, bool force) {
  if (!seal_ || head_.seq <= checkpoint_seq_) return;
  const auto unsealed = static_cast<std::size_t>(head_.seq - checkpoint_seq_);
  const bool by_count = seal_->checkpoint_records > 0 && unsealed >= seal_->checkpoint_records;
  const bool by_time = seal_->checkpoint_interval.count() > 0 &&
                       now_ns - unsealed_since_ns_ >= seal_->checkpoint_interval.count();
  if (force || by_count || by_time) sealLocked(now_ns);
}

void EmbeddedAuditLog::sealLocked(std::int64_t now_ns) {
  AuditCheckpoint cp;
  cp.seq = head_.seq;
  cp.head = head_.hash;
  cp.time_ns = now_ns;
  cp.first_seq = retainFromLocked(now_ns);
  Status signed_cp = [&]() -> Status {
    cp.from_hash = SIE_TRY(prevHashLocked(cp.first_seq));
    return signCheckpoint(cp, seal_->key_file);
  }();
  if (!signed_cp) {
    // The records stay unsealed and the next due check tries again; retention waits with them.
    checkpoint_errors_total_.inc();
    unsealed_since_ns_ = now_ns;
    spdlog::error("audit: cannot sign a checkpoint: {}", signed_cp.error().str());
    return;
  }
  const std::int64_t prune_before = cp.first_seq > first_seq_ ? cp.first_seq : 0;
  Staged& s = appendLocked(kCheckpointKind, "audit", checkpointJson(cp), now_ns);
  cp.record = s.record.seq;
  s.prune_before = prune_before;
  s.checkpoint = cp;
  first_seq_ = cp.first_seq;
  first_prev_ = cp.from_hash;
  checkpoint_seq_ = cp.record;
  checkpoints_total_.inc();
}

std::int64_t EmbeddedAuditLog::retainFromLocked(std::int64_t now_ns) {
  std::int64_t from = first_seq_;
  if (seal_->max_records > 0) {
    // With the checkpoint record (head_.seq + 1), at most max_records stay.
    from = std::max(from, head_.seq + 2 - static_cast<std::int64_t>(seal_->max_records));
  }
  if (seal_->max_age.count() > 0) {
    const std::int64_t cutoff = now_ns - seal_->max_age.count();
    std::int64_t young = head_.seq;
    std::optional<std::int64_t> stored;
    {
      std::lock_guard reader(context_.reader_mu);
      auto query = context_.reader.prepare(
          "SELECT seq FROM audit WHERE seq >= ?1 AND ts_ns >= ?2 ORDER BY seq LIMIT 1",
          "find audit retention start");
      if (query) {
        query->bind(1, from).bind(2, cutoff);
        if (auto row = query->step(); row && *row) stored = query->int64(0);
      }
    }
    if (stored) {
      young = *stored;
    } else {
      // Records still in memory are newer than every stored one.
      for (const auto* staged : {&records_.in_flight, &records_.pending}) {
        for (const Staged& s : *staged) {
          if (s.record.ts_ns >= cutoff) young = std::min(young, s.record.seq);
        }
      }
    }
    from = std::max(from, young);
  }
  // The sealed head itself stays, so the newest checkpoint can be checked against it.
  return std::min(from, head_.seq);
}

Result<std::string> EmbeddedAuditLog::prevHashLocked(std::int64_t seq) {
  if (seq == first_seq_) return first_prev_;
  for (const auto* staged : {&records_.in_flight, &records_.pending}) {
    for (const Staged& s : *staged) {
      if (s.record.seq == seq) return s.record.prev_hash;
    }
  }
  std::lock_guard reader(context_.reader_mu);
  Stmt query = SIE_TRY(
      context_.reader.prepare("SELECT prev_hash FROM audit WHERE seq = ?1", "read audit record"));
  query.bind(1, seq);
  if (!SIE_TRY(query.step())) {
    return fail(Errc::kInternal, fmt::format("audit record {} is neither stored nor pending", seq));
  }
  return std::string(query.text(0));
}

Result<std::vector<AuditRecord>> EmbeddedAuditLog::tail(std::size_t n) {
  SIE_CHECK(context_.checkOpen());
  std::shared_lock no_commit(context_.batcher->commitLock());
  std::vector<AuditRecord> unwritten;
  {
    std::lock_guard lock(mu_);
    for (const auto* staged : {&records_.in_flight, &records_.pending}) {
      for (const Staged& s : *staged) unwritten.push_back(s.record);
    }
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
  return AuditVerifyReport(SIE_TRY(verifyAuditChain(db)));
}

Status EmbeddedAuditLog::writePending(Db& db) {
  {
    std::lock_guard lock(mu_);
    // An idle chain still gets its time-based checkpoint when other state is written.
    maybeSealLocked(context_.clock->nowNs(), /*force=*/false);
    records_.take();
  }
  written_ = 0;
  pruned_ = 0;
  if (records_.in_flight.empty()) return ok();
  for (const Staged& s : records_.in_flight) {
    const AuditRecord& r = s.record;
    SIE_CHECK(insert_stmt_.bind(1, r.seq)
                  .bind(2, r.ts_ns)
                  .bindText(3, r.kind)
                  .bindText(4, r.subject)
                  .bindText(5, r.body)
                  .bindText(6, r.prev_hash)
                  .bindText(7, r.hash)
                  .run());
    if (s.prune_before > 0) {
      SIE_CHECK(prune_stmt_.bind(1, s.prune_before).run());
      pruned_ += sqlite3_changes(db.handle());
    }
  }
  const AuditRecord& newest = records_.in_flight.back().record;
  SIE_CHECK(head_seq_stmt_.bind(1, newest.seq).run());
  SIE_CHECK(head_hash_stmt_.bindText(1, newest.hash).run());
  written_ = records_.in_flight.size();
  return ok();
}

void EmbeddedAuditLog::commitDone() {
  {
    std::lock_guard lock(mu_);
    if (seal_ && !seal_->export_file.empty()) {
      for (const Staged& s : records_.in_flight) {
        if (s.checkpoint) unexported_.push_back(*s.checkpoint);
      }
    }
    records_.committed();
  }
  writes_total_.inc(written_);
  pruned_total_.inc(static_cast<std::uint64_t>(pruned_));
  // Exported only once committed, so the file never names a checkpoint the database lacks.
  std::size_t done = 0;
  for (; done < unexported_.size(); ++done) {
    if (auto appended = appendCheckpointExport(seal_->export_file, unexported_[done]); !appended) {
      export_errors_total_.inc();
      // Logged once per outage: a retry follows every commit, and the metric counts them.
      if (!export_failing_) {
        spdlog::error("audit: cannot export checkpoints (retried after every commit): {}",
                      appended.error().str());
      }
      export_failing_ = true;
      break;
    }
  }
  if (done > 0 && done == unexported_.size() && export_failing_) {
    spdlog::info("audit: checkpoints are exported again");
    export_failing_ = false;
  }
  unexported_.erase(unexported_.begin(), unexported_.begin() + static_cast<std::ptrdiff_t>(done));
}

}  // namespace sie::state
