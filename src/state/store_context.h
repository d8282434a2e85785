// StoreContext: what the embedded stores share. Owned by the EmbeddedStore, which destroys the
// stores before it.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>

#include "sie/clock.h"
#include "sie/result.h"
#include "state/sqlite_db.h"
#include "state/write_batcher.h"

namespace sie::state {

struct StoreContext {
  const Clock* clock = nullptr;
  std::unique_ptr<WriteBatcher> batcher;
  // The connection for queries that memory cannot answer. Statements prepared on it are used
  // only while reader_mu is held. Closed when the context is destroyed, not by close(), so a
  // query racing close() never sees a dead connection.
  Db reader;
  std::mutex reader_mu;
  // Accepted-but-unwritten writes beyond which TimeSeriesStore::append refuses (kOverload).
  std::size_t max_pending = 0;
  std::atomic<bool> closed{false};

  [[nodiscard]] Status checkOpen() const {
    if (closed.load(std::memory_order_acquire)) {
      return fail(Errc::kIo, "state store is closed", reader.path());
    }
    return ok();
  }
};

}  // namespace sie::state
