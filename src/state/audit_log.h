// EmbeddedAuditLog: the live audit chain. append() assigns the next seq and hashes the record at
// once under a mutex (so the chain order is the append order), then hands it to the batcher,
// which writes it together with the new head checkpoint. After reopening, the chain continues
// from the stored head checkpoint.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sie/metrics.h"
#include "sie/state.h"
#include "state/audit_chain.h"
#include "state/store_context.h"

namespace sie::state {

class EmbeddedAuditLog final : public AuditLog, public BatchSource {
 public:
  // Reads the chain head and prepares statements; call before the writer starts.
  static Result<std::unique_ptr<EmbeddedAuditLog>> create(StoreContext& context);

  Result<std::int64_t> append(std::string_view kind, std::string_view subject,
                              std::string_view body) override;
  // The newest `n` records, oldest first.
  Result<std::vector<AuditRecord>> tail(std::size_t n) override;
  // Syncs, then verifies the whole chain as stored.
  Result<AuditVerifyReport> verify() override;

  Status writePending(Db& db) override;
  void commitDone() override;

 private:
  explicit EmbeddedAuditLog(StoreContext& context);

  StoreContext& context_;
  std::mutex mu_;
  AuditHead head_;
  StagedWrites<AuditRecord> records_;

  // Writer thread only.
  Stmt insert_stmt_;
  Stmt head_seq_stmt_;
  Stmt head_hash_stmt_;
  std::size_t written_ = 0;

  Counter& writes_total_;
};

}  // namespace sie::state
