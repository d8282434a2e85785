// EmbeddedDeadLetters: events the node accepted but could not process. Ids are assigned in
// memory at put() and the letters are written through the batcher; list() merges the letters not
// yet committed with SQLite. Every put bumps sie_dead_letters_total{origin=...}.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "sie/metrics.h"
#include "sie/state.h"
#include "state/store_context.h"

namespace sie::state {

class EmbeddedDeadLetters final : public DeadLetterStore, public BatchSource {
 public:
  // Reads the next id and the count, prepares statements; call before the writer starts.
  static Result<std::unique_ptr<EmbeddedDeadLetters>> create(StoreContext& context);

  // A letter with ts_ns == 0 is stamped with the clock's time.
  Status put(DeadLetter letter) override;
  Result<std::vector<DeadLetter>> list(std::size_t limit) override;
  Result<std::int64_t> count() override;

  Status writePending(Db& db) override;
  void commitDone() override;

 private:
  explicit EmbeddedDeadLetters(StoreContext& context);

  StoreContext& context_;
  std::mutex mu_;
  std::int64_t next_id_ = 1;
  StagedWrites<DeadLetter> letters_;
  std::atomic<std::int64_t> count_{0};

  Stmt list_stmt_;    // reader connection
  Stmt insert_stmt_;  // writer thread
  std::size_t written_ = 0;

  Counter& writes_total_;
};

}  // namespace sie::state
