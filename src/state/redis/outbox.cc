#include "state/redis/outbox.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sie::state::redis {
namespace {

// Replaying an entry the stream already has: the command reached Redis before the connection
// dropped. Every other refusal is real.
bool isDuplicate(const Op& op, const Reply& reply) {
  return op.argv.front() == "XADD" && reply.str.find("equal or smaller") != std::string::npos;
}

bool isTransient(std::string_view error) {
  for (std::string_view code : {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN"}) {
    if (error.starts_with(code)) return true;
  }
  return false;
}

}  // namespace

Outbox::Outbox(Options options, Spool spool)
    : options_(std::move(options)),
      connection_(options_.endpoint),
      spool_(std::move(spool)),
      up_gauge_(metrics().gauge("sie_state_redis_up", "1 while the Redis state backend answers")),
      queued_gauge_(
          metrics().gauge("sie_state_redis_queued", "Accepted writes on their way to Redis")),
      spooled_gauge_(metrics().gauge("sie_state_redis_spooled",
                                     "Writes kept in the local spool while Redis was down")),
      rejected_(metrics().counter("sie_state_redis_rejected_total",
                                  "Writes Redis refused (kept as local dead letters)")),
      replayed_(metrics().counter("sie_state_redis_replayed_total",
                                  "Spooled writes replayed to Redis")) {}

Result<std::unique_ptr<Outbox>> Outbox::open(Options options) {
  Spool spool = SIE_TRY(Spool::open(options.spool_path));
  std::unique_ptr<Outbox> box(new Outbox(std::move(options), std::move(spool)));
  box->last_seq_ = box->spool_.lastSeq();
  box->spooled_ = box->spool_.size();
  box->acked_ = box->spooled_ == 0 ? box->last_seq_ : 0;
  // A refused password or database is a configuration error; an unreachable server is an outage
  // the node rides out.
  if (Status connected = box->connection_.connect(); connected) {
    box->up_ = true;
  } else if (connected.error().code == Errc::kInvalidArgument) {
    return tl::unexpected(connected.error());
  } else {
    box->down_reason_ = connected.error().message;
    spdlog::warn("{}: {}; writes are spooled locally until it answers",
                 box->options_.endpoint.name(), box->down_reason_);
  }
  if (box->spooled_ > 0) {
    spdlog::info("{}: {} spooled writes to replay", box->options_.endpoint.name(), box->spooled_);
  }
  box->publishGauges();
  return box;
}

void Outbox::start() {
  thread_ = std::thread([this] { run(); });
}

Outbox::~Outbox() { (void)close(); }

Result<std::int64_t> Outbox::push(Argv argv, bool refusable) {
  std::lock_guard lock(mu_);
  if (stopping_) return fail(Errc::kIo, "state store is closed", options_.endpoint.name());
  if (refusable && queue_.size() >= options_.max_pending) {
    return fail(Errc::kOverload,
                fmt::format("{} writes are waiting for Redis (limit {})", queue_.size(),
                            options_.max_pending),
                options_.endpoint.name());
  }
  const std::int64_t seq = ++last_seq_;
  queue_.push_back(Op{seq, std::move(argv)});
  if (queue_.size() == 1 || queue_.size() == options_.spill_at) work_cv_.notify_one();
  return seq;
}

std::int64_t Outbox::settledUpTo() const {
  if (moving_first_ != 0) return moving_first_ - 1;
  return queue_.empty() ? last_seq_ : queue_.front().seq - 1;
}

Status Outbox::sync() {
  std::unique_lock lock(mu_);
  const std::int64_t target = last_seq_;
  if (settledUpTo() >= target) return ok();
  if (stopped_) return fail(Errc::kIo, "state store is closed", options_.endpoint.name());
  sync_wanted_ = std::max(sync_wanted_, target);
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return settledUpTo() >= target || !spool_status_ || stopped_; });
  if (settledUpTo() >= target) return ok();
  if (!spool_status_) return spool_status_;
  return fail(Errc::kIo, "state store closed before the writes were kept",
              options_.endpoint.name());
}

Result<std::int64_t> Outbox::barrier(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const std::int64_t target = last_seq_;
  work_cv_.notify_one();
  done_cv_.wait_for(lock, timeout, [&] { return acked_ >= target || !up_ || stopped_; });
  if (acked_ >= target) return target;
  return fail(Errc::kIo,
              up_ ? std::string("Redis did not catch up with the queued writes in time")
                  : fmt::format("Redis is unreachable ({})", down_reason_),
              options_.endpoint.name());
}

bool Outbox::up() const {
  std::lock_guard lock(mu_);
  return up_;
}

Status Outbox::close() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  return spool_status_;
}

void Outbox::publishGauges() {
  up_gauge_.set(up_ ? 1.0 : 0.0);
  queued_gauge_.set(static_cast<double>(queue_.size()));
  spooled_gauge_.set(static_cast<double>(spooled_));
}

void Outbox::markDown(const std::string& why) {
  if (up_) {
    spdlog::warn("{}: {}; writes are spooled locally until it answers", options_.endpoint.name(),
                 why);
  }
  up_ = false;
  down_reason_ = why;
  next_attempt_ = std::chrono::steady_clock::now() + options_.reconnect_min;
  publishGauges();
  done_cv_.notify_all();
}

void Outbox::tryConnect(std::unique_lock<std::mutex>& lock, Backoff& backoff) {
  lock.unlock();
  Status connected = connection_.connect();
  lock.lock();
  if (connected) {
    up_ = true;
    backoff.reset();
    spdlog::info("{}: connected; {} spooled and {} queued writes to send", options_.endpoint.name(),
                 spooled_, queue_.size());
  } else {
    down_reason_ = connected.error().message;
    next_attempt_ = std::chrono::steady_clock::now() + backoff.next();
  }
  publishGauges();
  done_cv_.notify_all();
}

Status Outbox::send(const std::vector<Op>& ops) {
  std::vector<const Argv*> commands;
  commands.reserve(ops.size());
  for (const Op& op : ops) commands.push_back(&op.argv);
  auto replies = SIE_TRY(connection_.pipeline(commands));
  // A server still loading its data (or busy with a script) refuses for now, not for good: the
  // whole batch is sent again later, which is safe because every command is idempotent.
  for (const Reply& reply : replies) {
    if (reply.isError() && isTransient(reply.str)) {
      connection_.disconnect();
      return fail(Errc::kIo, reply.str, options_.endpoint.name());
    }
  }
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Reply& reply = replies[i];
    if (!reply.isError() || isDuplicate(ops[i], reply)) continue;
    rejected_.inc();
    spdlog::error("{}: {} refused: {}", options_.endpoint.name(), ops[i].argv.front(), reply.str);
    if (options_.on_rejected) options_.on_rejected(ops[i], reply.str);
  }
  return ok();
}

bool Outbox::sendQueued(std::unique_lock<std::mutex>& lock) {
  const std::size_t n = std::min(queue_.size(), options_.batch_max);
  std::vector<Op> batch(std::make_move_iterator(queue_.begin()),
                        std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  moving_first_ = batch.front().seq;
  lock.unlock();
  Status sent = send(batch);
  lock.lock();
  moving_first_ = 0;
  if (!sent) {
    queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                  std::make_move_iterator(batch.end()));
    markDown(sent.error().message);
    return false;
  }
  landed(lock, batch.back().seq);
  return true;
}

void Outbox::landed(std::unique_lock<std::mutex>& lock, std::int64_t seq) {
  acked_ = std::max(acked_, seq);
  publishGauges();
  done_cv_.notify_all();
  lock.unlock();
  if (options_.on_acked) options_.on_acked(seq);
  lock.lock();
}

bool Outbox::replaySpool(std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  auto ops = spool_.read(options_.batch_max);
  Status sent;
  Status erased;
  if (ops && !ops->empty()) {
    sent = send(*ops);
    if (sent) erased = spool_.erase(ops->back().seq);
  }
  lock.lock();
  if (!ops || !erased) {
    // A spool that cannot be read or trimmed: retry slowly, as after an outage.
    spool_status_ = !ops ? Status(tl::unexpected(ops.error())) : erased;
    spdlog::error("{}: cannot replay the spool: {}", options_.endpoint.name(),
                  spool_status_.error().str());
    connection_.disconnect();
    up_ = false;
    next_attempt_ = std::chrono::steady_clock::now() + options_.reconnect_max;
    publishGauges();
    done_cv_.notify_all();
    return false;
  }
  if (ops->empty()) {
    spooled_ = 0;
    return true;
  }
  if (!sent) {
    markDown(sent.error().message);
    return false;
  }
  replayed_.inc(ops->size());
  spooled_ = spool_.size();
  landed(lock, ops->back().seq);
  return true;
}

bool Outbox::spill(std::unique_lock<std::mutex>& lock) {
  std::vector<Op> ops(std::make_move_iterator(queue_.begin()),
                      std::make_move_iterator(queue_.end()));
  queue_.clear();
  moving_first_ = ops.front().seq;
  lock.unlock();
  Status written = spool_.write(ops);
  lock.lock();
  moving_first_ = 0;
  if (!written) {
    queue_.insert(queue_.begin(), std::make_move_iterator(ops.begin()),
                  std::make_move_iterator(ops.end()));
    spool_status_ = written;
    spdlog::error("{}: cannot spool {} writes: {}", options_.endpoint.name(), queue_.size(),
                  written.error().str());
    done_cv_.notify_all();
    return false;
  }
  spool_status_ = ok();
  spooled_ = spool_.size();
  publishGauges();
  done_cv_.notify_all();
  return true;
}

void Outbox::run() {
  Backoff backoff(options_.reconnect_min, options_.reconnect_max);
  std::unique_lock lock(mu_);
  for (;;) {
    if (!up_ && !stopping_ && std::chrono::steady_clock::now() >= next_attempt_) {
      tryConnect(lock, backoff);
    }
    if (up_ && !stopping_ && spooled_ > 0) {
      replaySpool(lock);
      continue;
    }
    // At close with a spool left, the queue joins the spool so the order holds.
    if (up_ && !queue_.empty() && !(stopping_ && spooled_ > 0)) {
      sendQueued(lock);
      continue;
    }
    const bool spill_now = !queue_.empty() && (stopping_ || sync_wanted_ >= queue_.front().seq ||
                                               queue_.size() >= options_.spill_at);
    if (spill_now) {
      if (spill(lock)) continue;
      if (stopping_) {
        spdlog::error("{}: {} writes lost at close: the spool failed", options_.endpoint.name(),
                      queue_.size());
        break;
      }
      work_cv_.wait_for(lock, options_.reconnect_min);
      continue;
    }
    if (stopping_) break;
    if (up_) {
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    } else {
      work_cv_.wait_until(lock, next_attempt_, [&] {
        return stopping_ || (!queue_.empty() && (sync_wanted_ >= queue_.front().seq ||
                                                 queue_.size() >= options_.spill_at));
      });
    }
  }
  stopped_ = true;
  up_ = false;
  publishGauges();
  done_cv_.notify_all();
  lock.unlock();
  connection_.disconnect();
}

}  // namespace sie::state::redis
