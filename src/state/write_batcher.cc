#include "state/write_batcher.h"

#include <sys/resource.h>
#include <unistd.h>

#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sie/clock.h"

namespace sie::state {
namespace {

constexpr int kWriterNice = 10;

// SQLite's default auto-checkpoint threshold, in WAL pages.
constexpr int kCheckpointPages = 1000;

}  // namespace

WriteBatcher::WriteBatcher(Db db, Options options)
    : db_(std::move(db)),
      options_(options),
      commit_seconds_(metrics().histogram("sie_state_commit_seconds",
                                          "Time to write and commit one batch of state writes")),
      pending_gauge_(metrics().gauge("sie_state_pending_writes",
                                     "State writes accepted and waiting for the writer")),
      commit_errors_(metrics().counter("sie_state_commit_errors_total",
                                       "Batches of state writes that failed to commit")) {
  // Replaces SQLite's auto-checkpoint, which would run inside COMMIT while readers wait on
  // commit_lock_; commitBatch() checkpoints after releasing it instead.
  sqlite3_wal_hook(
      db_.handle(),
      [](void* self, sqlite3* /*db*/, const char* /*name*/, int pages) {
        static_cast<WriteBatcher*>(self)->wal_pages_ = pages;
        return SQLITE_OK;
      },
      this);
}

WriteBatcher::~WriteBatcher() { (void)stop(); }

Status WriteBatcher::start() {
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    return fail(Errc::kIo, fmt::format("cannot start the state writer thread: {}", e.what()));
  }
  return ok();
}

void WriteBatcher::wake() {
  std::lock_guard lock(mu_);
  full_ = true;
  wake_cv_.notify_one();
}

Status WriteBatcher::sync() {
  std::unique_lock lock(mu_);
  if (stopping_ || stopped_) return fail(Errc::kIo, "state store is closed", db_.path());
  const std::uint64_t ticket = ++sync_requested_;
  wake_cv_.notify_one();
  done_cv_.wait(lock, [&] { return sync_done_ >= ticket; });
  return last_status_;
}

Status WriteBatcher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return last_status_;
    stopping_ = true;
    wake_cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  stopped_ = true;
  if (db_.handle() != nullptr) {
    // Leaves a self-contained database file behind, for read-only tools and backups.
    Status checkpoint = db_.exec("PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint at close");
    if (!checkpoint) spdlog::warn("state: {}", checkpoint.error().str());
  }
  db_.close();
  return last_status_;
}

void WriteBatcher::run() {
  // Commits are batched and may lag; the event path must not. Lower this thread's priority
  // (Linux nice is per thread) so functions win the cores when both want them.
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kWriterNice);
  std::unique_lock lock(mu_);
  for (;;) {
    wake_cv_.wait_for(lock, options_.interval,
                      [&] { return stopping_ || full_ || sync_requested_ > sync_done_; });
    const bool stopping = stopping_;
    const std::uint64_t target = sync_requested_;
    const bool durable = stopping || target > sync_done_;
    const bool retry = retry_;
    full_ = false;
    lock.unlock();

    // Writes counted after this exchange are taken by this batch or counted for the next one.
    const std::size_t pending = pending_.exchange(0, std::memory_order_relaxed);
    pending_gauge_.set(static_cast<double>(pending));
    Status status = ok();
    if (pending > 0 || durable || retry) status = commitBatch(durable);
    pending_gauge_.set(static_cast<double>(pending_.load(std::memory_order_relaxed)));

    if (!status && !retry) spdlog::error("state: {} (retrying every batch)", status.error().str());
    if (status && retry) spdlog::info("state: writes are committing again");

    lock.lock();
    retry_ = !status;
    last_status_ = status;
    sync_done_ = target;
    done_cv_.notify_all();
    if (stopping) return;
  }
}

Status WriteBatcher::commitBatch(bool durable) {
  const std::int64_t start = monotonicNs();
  // FULL makes this commit fsync the WAL, and with it every earlier NORMAL commit.
  if (durable) SIE_CHECK(db_.exec("PRAGMA synchronous=FULL", "set synchronous=FULL"));
  Status status = db_.exec("BEGIN IMMEDIATE", "begin batch");
  for (BatchSource* source : sources_) {
    if (!status) break;
    status = source->writePending(db_);
  }
  if (status) {
    std::unique_lock exclusive(commit_lock_);
    status = db_.exec("COMMIT", "commit batch");
    if (status) {
      for (BatchSource* source : sources_) source->commitDone();
    }
  }
  if (status && wal_pages_ >= kCheckpointPages) {
    // PASSIVE never waits for readers; a checkpoint that cannot finish is retried next batch.
    sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    wal_pages_ = 0;
  }
  if (!status) {
    // In-flight writes stay in memory (readers still see them) and go into the next batch.
    if (db_.inTransaction()) (void)db_.exec("ROLLBACK", "rollback batch");
    commit_errors_.inc();
  }
  if (durable) {
    Status restored = db_.exec("PRAGMA synchronous=NORMAL", "set synchronous=NORMAL");
    if (status && !restored) status = restored;
  }
  commit_seconds_.observe(static_cast<double>(monotonicNs() - start) * 1e-9);
  return status;
}

}  // namespace sie::state
