// EmbeddedAuditLog: the live audit chain. append() assigns the next seq and hashes the record at
// once under a mutex (so the chain order is the append order), then hands it to the batcher,
// which writes it together with the new head checkpoint. After reopening, the chain continues
// from the stored head checkpoint.
//
// Sealing (when AuditSealOptions are given): after every `checkpoint_records` records, or once the
// oldest unsealed record is `checkpoint_interval` old (checked on append and on every batch), and
// on close, the log appends a signed checkpoint record (audit_checkpoint.h). The batch that writes
// a checkpoint also prunes the records retention lets go, all of them covered by that checkpoint;
// after its commit the checkpoint is appended to the export file.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sie/audit_seal.h"
#include "sie/metrics.h"
#include "sie/state.h"
#include "state/audit_chain.h"
#include "state/audit_checkpoint.h"
#include "state/store_context.h"

namespace sie::state {

class EmbeddedAuditLog final : public AuditLog, public BatchSource {
 public:
  // Reads the chain head and prepares statements; call before the writer starts. With `seal`,
  // creates the node key when it is missing.
  static Result<std::unique_ptr<EmbeddedAuditLog>> create(
      StoreContext& context, std::optional<AuditSealOptions> seal = std::nullopt);

  Result<std::int64_t> append(std::string_view kind, std::string_view subject,
                              std::string_view body) override;
  // The newest `n` records, oldest first.
  Result<std::vector<AuditRecord>> tail(std::size_t n) override;
  // Syncs, then verifies the whole chain as stored.
  Result<AuditVerifyReport> verify() override;

  // Appends a checkpoint when records are unsealed; called on close, before the last batch.
  void seal();

  Status writePending(Db& db) override;
  void commitDone() override;

 private:
  struct Staged {
    AuditRecord record;
    std::int64_t prune_before = 0;  // > 0: delete the records older than this seq with it
    std::optional<AuditCheckpoint> checkpoint;
  };

  EmbeddedAuditLog(StoreContext& context, std::optional<AuditSealOptions> seal);

  // Under mu_: appends one record after head_.
  Staged& appendLocked(std::string_view kind, std::string_view subject, std::string body,
                       std::int64_t now_ns);
  // Under mu_: a checkpoint when one is due (or `force` and records are unsealed).
  void maybeSealLocked(std::int64_t now_ns, bool force);
  void sealLocked(std::int64_t now_ns);
  // Under mu_: the oldest record retention keeps once head_ is sealed (>= first_seq_).
  std::int64_t retainFromLocked(std::int64_t now_ns);
  // Under mu_: prev_hash of record `seq` (kept in memory or committed).
  Result<std::string> prevHashLocked(std::int64_t seq);
  Status loadSealState(Db& db);

  StoreContext& context_;
  const std::optional<AuditSealOptions> seal_;
  std::mutex mu_;
  AuditHead head_;
  StagedWrites<Staged> records_;
  // Sealing state, under mu_.
  std::int64_t checkpoint_seq_ = 0;  // the newest checkpoint record (0: none)
  std::int64_t unsealed_since_ns_ = 0;
  std::int64_t first_seq_ = 1;  // the oldest record kept
  std::string first_prev_{kGenesisHash};

  // Writer thread only.
  Stmt insert_stmt_;
  Stmt prune_stmt_;
  Stmt head_seq_stmt_;
  Stmt head_hash_stmt_;
  std::size_t written_ = 0;
  std::int64_t pruned_ = 0;
  std::vector<AuditCheckpoint> unexported_;
  bool export_failing_ = false;

  Counter& writes_total_;
  Counter& checkpoints_total_;
  Counter& checkpoint_errors_total_;
  Counter& pruned_total_;
  Counter& export_errors_total_;
};

}  // namespace sie::state
