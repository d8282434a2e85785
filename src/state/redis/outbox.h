// Outbox: every write the Redis backend accepts, in order, on its way to Redis.
//
// One flusher thread owns the write connection. While Redis answers, it sends the queued commands
// in pipelined batches. While Redis is out of reach, it moves them into the local spool (when a
// sync() asks for durability, when the queue grows past spill_at, and at close), reconnects with
// jittered backoff, then replays the spool before anything newer. So a write is never lost and
// never reordered; a replay may repeat a command, so every command the backend queues is
// idempotent (stream entries with explicit ids, SET with absolute expiry, dead letters with their
// own key).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/backoff.h"
#include "sie/metrics.h"
#include "sie/result.h"
#include "state/redis/connection.h"
#include "state/redis/spool.h"

namespace sie::state::redis {

class Outbox {
 public:
  struct Options {
    Endpoint endpoint;
    std::string spool_path;
    std::size_t max_pending = std::size_t{1} << 20;  // queued commands beyond which push refuses
    std::size_t batch_max = 512;
    std::size_t spill_at = 4096;  // Redis down: queued commands beyond which go to the spool
    std::chrono::milliseconds reconnect_min{50};
    std::chrono::milliseconds reconnect_max{2000};
    // Flusher thread, no lock held: every command up to `seq` is in Redis.
    std::function<void(std::int64_t seq)> on_acked;
    // Flusher thread: Redis refused a command for good (never a duplicate).
    std::function<void(const Op& op, const std::string& error)> on_rejected;
  };

  // Opens the spool and tries Redis once; start() starts the flusher.
  static Result<std::unique_ptr<Outbox>> open(Options options);
  void start();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;
  ~Outbox();

  // Queues a command; returns its seq. `refusable` commands fail with kOverload when the queue
  // is full (time-series appends); the others are always taken.
  Result<std::int64_t> push(Argv argv, bool refusable);
  // Returns once every command queued before the call is in Redis or in the spool.
  Status sync();
  // Returns once every command queued before the call is in Redis, with the last one's seq; kIo
  // when Redis is down or does not catch up within `timeout`.
  Result<std::int64_t> barrier(std::chrono::milliseconds timeout);
  // Flushes (or spools) everything and stops the flusher.
  Status close();

  [[nodiscard]] bool up() const;

 private:
  explicit Outbox(Options options, Spool spool);
  void run();
  // Each returns with the lock held again; false when Redis dropped the connection.
  bool sendQueued(std::unique_lock<std::mutex>& lock);
  bool replaySpool(std::unique_lock<std::mutex>& lock);
  bool spill(std::unique_lock<std::mutex>& lock);  // false when the spool failed
  // Every command up to `seq` is in Redis: wakes waiters, then tells on_acked (lock released).
  void landed(std::unique_lock<std::mutex>& lock, std::int64_t seq);
  void tryConnect(std::unique_lock<std::mutex>& lock, Backoff& backoff);
  // Sends a batch and handles refusals; fails only when the connection does.
  Status send(const std::vector<Op>& ops);
  void markDown(const std::string& why);
  [[nodiscard]] std::int64_t settledUpTo() const;  // every seq <= this is in Redis or spooled
  void publishGauges();

  Options options_;
  Connection connection_;  // flusher thread only
  Spool spool_;            // flusher thread only (after open)

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // wakes the flusher
  std::condition_variable done_cv_;  // wakes sync()/barrier()
  std::deque<Op> queue_;             // neither in Redis nor spooled, ascending seq
  std::int64_t last_seq_ = 0;
  std::int64_t acked_ = 0;  // every seq <= acked_ is in Redis
  std::int64_t sync_wanted_ = 0;
  std::int64_t moving_first_ = 0;  // first seq of a batch being sent or spooled (0 = none)
  std::size_t spooled_ = 0;
  bool up_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  Status spool_status_;  // the last spool failure, until a spool write succeeds

  std::chrono::steady_clock::time_point next_attempt_{};
  std::string down_reason_;
  std::thread thread_;

  Gauge& up_gauge_;
  Gauge& queued_gauge_;
  Gauge& spooled_gauge_;
  Counter& rejected_;
  Counter& replayed_;
};

}  // namespace sie::state::redis
