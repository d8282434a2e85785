// WriteBatcher: the embedded backend's one writer thread. Stores accept writes into memory
// (cheap, under their own short locks) and the writer moves them to SQLite in one transaction per
// batch: every `interval`, when `batch_max` writes are pending, or when sync() asks.
//
// Readers that combine memory with SQLite take commitLock() shared: the writer holds it
// exclusively only around COMMIT and the stores' commitDone(), so a reader sees each write either
// in memory (pending or in flight) or in SQLite, never both and never neither.
//
// Lock order: commitLock() -> a store's own mutex -> the reader connection's mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "sie/metrics.h"
#include "sie/result.h"
#include "state/commit_lock.h"
#include "state/sqlite_db.h"

namespace sie::state {

// Writes accepted in memory (`pending`) and those in the writer's open transaction
// (`in_flight`). The owning store's mutex guards both; the writer thread may read `in_flight`
// without it, because only the writer thread changes `in_flight` (under the mutex).
template <typename T>
struct StagedWrites {
  std::vector<T> pending;
  std::vector<T> in_flight;

  // Writer, under the store's mutex: moves pending writes in flight. After a failed commit the
  // previous in-flight writes are still there and go first.
  void take() {
    if (in_flight.empty()) {
      std::swap(pending, in_flight);  // keeps both buffers' capacity in use
    } else {
      for (auto& item : pending) in_flight.push_back(std::move(item));
      pending.clear();
    }
  }
  // Writer, under the store's mutex, after COMMIT.
  void committed() { in_flight.clear(); }
};

// A store that buffers writes for the writer. All three calls run on the writer thread.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // Inside the open transaction: takes the pending writes in flight and writes them to `db`.
  virtual Status writePending(Db& db) = 0;
  // After COMMIT, while commitLock() is held exclusively: forgets the in-flight writes.
  virtual void commitDone() = 0;
};

class WriteBatcher {
 public:
  struct Options {
    std::chrono::milliseconds interval{20};
    std::size_t batch_max = 4096;
  };

  // `db` is the writer connection, already configured; it is used by the writer thread only once
  // start() has been called.
  WriteBatcher(Db db, Options options);
  WriteBatcher(const WriteBatcher&) = delete;
  WriteBatcher& operator=(const WriteBatcher&) = delete;
  ~WriteBatcher();

  // Before start(): the writer connection, to load state and prepare statements.
  Db& db() { return db_; }
  // Before start(); sources are written in the order added and must outlive the writer thread.
  void addSource(BatchSource* source) { sources_.push_back(source); }
  // Starts the writer thread.
  Status start();

  // Counts `n` newly accepted writes; wakes the writer when a batch is full. Hot path.
  void noteWrites(std::size_t n) {
    const std::size_t before = pending_.fetch_add(n, std::memory_order_relaxed);
    if (before < options_.batch_max && before + n >= options_.batch_max) wake();
  }
  // Writes accepted and not yet taken by the writer.
  [[nodiscard]] std::size_t pendingWrites() const {
    return pending_.load(std::memory_order_relaxed);
  }

  // Blocks until everything accepted before the call is committed and fsynced. Returns the
  // error of the commit when it failed (the writes stay queued and are retried).
  Status sync();
  // Commits what is pending (durably), stops the writer thread, checkpoints the WAL into the
  // database file and closes the connection.
  // Returns the final commit's status; later calls return it again.
  Status stop();

  CommitLock& commitLock() { return commit_lock_; }

 private:
  void wake();
  void run();
  Status commitBatch(bool durable);

  Db db_;
  int wal_pages_ = 0;  // WAL size after the last commit; writer thread only
  const Options options_;
  std::vector<BatchSource*> sources_;
  CommitLock commit_lock_;
  std::atomic<std::size_t> pending_{0};

  std::mutex mu_;  // guards everything below
  std::condition_variable wake_cv_;
  std::condition_variable done_cv_;
  bool full_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  bool retry_ = false;  // the last commit failed; its writes are still in flight
  std::uint64_t sync_requested_ = 0;
  std::uint64_t sync_done_ = 0;
  Status last_status_;
  std::thread thread_;

  Histogram& commit_seconds_;
  Gauge& pending_gauge_;
  Counter& commit_errors_;
};

}  // namespace sie::state
