// Dispatcher: bounded per-function queues drained by a worker pool sized to the cores.
//
// Each function (target) has `lanes` FIFO lanes; an event goes to the lane of its sensor, and a
// lane is worked by at most one worker at a time, so the events of one sensor reach a function in
// order while different sensors run in parallel. When a function's queue is full the overload
// policy decides: block the source (up to block_timeout, then refuse), drop the oldest queued event
// of that lane (counted), or send the new event to the dead-letter store. An event that some of
// its functions take and others refuse goes on to the first and is dead-lettered for the others.
// A handler that asks for a retry (Handled) parks its lane on a timer: no worker sleeps, the
// lane's later events wait behind the failed one, and a stopping dispatcher retries at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/downstream.h"
#include "runtime/dispatcher_options.h"
#include "runtime/handled.h"
#include "sie/clock.h"
#include "sie/function.h"
#include "sie/metrics.h"
#include "sie/state.h"

namespace sie::node {

class Dispatcher final : public gateway::Downstream {
 public:
  // Runs one event for one function on a worker thread. Must not throw.
  using Handler = std::function<void(const Event& event)>;
  // Runs a batch of one lane's events, in their order; `failures` is how often the first event
  // failed before (0: a fresh event). Must not throw.
  using BatchHandler = std::function<Handled(std::span<const Event* const> events, int failures)>;

  // `clock` stamps the dead letters it writes.
  Dispatcher(DispatcherOptions options, DeadLetterStore& dead_letters,
             const Clock& clock = systemClock());
  ~Dispatcher() override;

  // At most this many targets over the dispatcher's life (targets are never removed: a deleted
  // function's target stays, idle, for a redeploy of the same name).
  static constexpr std::size_t kMaxTargets = 4096;

  // Adds a function, before or after start(); returns its target id for the router. Thread-safe;
  // a full table (kMaxTargets) is an error.
  Result<std::uint32_t> addTarget(std::string name, Handler handler);
  // The same for a function that takes micro-batches: up to batch.max_size events of a lane per
  // call, waiting up to batch.max_delay for them to arrive.
  Result<std::uint32_t> addTarget(std::string name, BatchHandler handler, BatchPolicy batch);
  // A new micro-batch policy for a target (a new version of its function); thread-safe.
  void setBatch(std::uint32_t target, BatchPolicy batch);
  // Whether the delivering thread may run the target's events itself when their lane is idle
  // (no event queued or running) and it takes no micro-batches: for functions that cost
  // microseconds and never block (builtin), the hand-off to a worker thread — a wake-up and a
  // context switch per event — costs more than the function. Order per lane is kept: one thread
  // works a lane at a time. Thread-safe; off by default.
  void setInline(std::uint32_t target, bool allowed);

  void start();
  Status deliver(Event&& event, std::span<const std::uint32_t> targets) override;
  // Waits until every queued event was handled (or the deadline passed); returns whether drained.
  bool drain(std::chrono::milliseconds deadline);
  // Drains (up to `deadline`) and joins the workers. Later deliveries are refused.
  void stop(std::chrono::milliseconds deadline = std::chrono::seconds(10));

  [[nodiscard]] std::size_t queued() const { return queued_.load(std::memory_order_relaxed); }
  // Events queued or running for one target.
  [[nodiscard]] std::size_t depth(std::uint32_t target) const {
    return targets_[target]->depth.load(std::memory_order_relaxed);
  }
  [[nodiscard]] int workers() const { return static_cast<int>(threads_.size()); }

 private:
  struct Target;
  struct Lane {
    Target* target = nullptr;
    std::mutex mu;
    std::deque<std::shared_ptr<const Event>> events;
    bool scheduled = false;  // in the ready queue or being worked
    bool filling = false;    // a worker waits (up to maxDelay) for more events: notify `more`
    std::condition_variable more;
    // The event at the front that failed before, and how often; only the lane's worker uses them.
    std::shared_ptr<const Event> retrying;
    int failures = 0;
  };
  struct Target {
    std::string name;
    BatchHandler handler;
    std::atomic<int> max_batch{1};
    std::atomic<std::int64_t> max_delay_us{0};
    std::atomic<bool> inline_allowed{false};
    std::vector<std::unique_ptr<Lane>> lanes;
    std::atomic<std::size_t> depth{0};
    Gauge* depth_gauge = nullptr;
    Counter* dropped = nullptr;
    Counter* dead_lettered = nullptr;
    Counter* refused = nullptr;
    Histogram* wait = nullptr;
    Counter* calls = nullptr;  // handled / calls is the mean batch size
    Counter* handled = nullptr;
  };

  // true: enqueue the event; false: it was parked in the dead-letter store; error: refused.
  Result<bool> admit(Target& target, Lane& lane, const Event& event);
  // The event as a dead letter from the dispatcher, with the reason.
  [[nodiscard]] DeadLetter letterFor(const Event& event, std::string reason) const;
  void enqueue(Target& target, Lane& lane, std::shared_ptr<const Event> event);
  void workerLoop();
  // Puts a lane on the ready queue and wakes a sleeping worker if none is spinning.
  void schedule(Lane& lane);
  void runLane(Lane& lane);
  // Hands one batch of a lane to its function, and counts the events it finished.
  Handled handle(Target& target, std::span<const std::shared_ptr<const Event>> batch, int failures);
  // After a turn: false when every event of `batch` is done; otherwise puts the unfinished ones
  // back at the lane's front and parks the lane until their retry is due (returns true).
  bool retryLater(Lane& lane, std::span<const std::shared_ptr<const Event>> batch,
                  const Handled& handled, int failures);
  // Under ready_mu_: parked lanes whose retry is due (all of them once stopping) become ready.
  void wakeParked();
  // Ends a turn on a lane: idle again, or back on the ready queue if events came meanwhile.
  void release(Lane& lane);
  // Runs one event on the delivering thread; the lane was idle and is now marked scheduled.
  void runInline(Target& target, Lane& lane, std::shared_ptr<const Event> event);
  // Moves up to `max` events from the lane into `out`, waiting up to the target's max_delay.
  void takeBatch(Lane& lane, std::size_t max, std::vector<std::shared_ptr<const Event>>& out);
  // Waits on space_cv_ until `ready` holds or the timeout passes.
  template <typename Pred>
  bool waitForSpace(std::chrono::milliseconds timeout, Pred ready);

  DispatcherOptions options_;
  DeadLetterStore& dead_letters_;
  const Clock& clock_;
  // kMaxTargets slots, filled in order: a slot is written once, before its id is handed out, so
  // workers and deliver() read published slots without a lock.
  std::vector<std::unique_ptr<Target>> targets_;
  std::mutex add_mu_;
  std::atomic<std::uint32_t> target_count_{0};

  std::mutex ready_mu_;
  std::condition_variable ready_cv_;
  std::deque<Lane*> ready_;
  // Lanes waiting for a retry, by when it is due; guarded by ready_mu_. A sleeping worker waits
  // until the earliest of them.
  std::multimap<std::chrono::steady_clock::time_point, Lane*> parked_;
  int sleepers_ = 0;  // workers waiting on ready_cv_; guarded by ready_mu_
  std::atomic<bool> stopping_{false};

  // Sources blocked on a full queue, and drain() callers, wait here; workers notify only while
  // someone waits (waiters_ > 0), so the common path takes no extra lock.
  std::mutex space_mu_;
  std::condition_variable space_cv_;
  std::atomic<int> waiters_{0};

  std::atomic<std::size_t> queued_{0};  // queued or running, over all targets
  std::atomic<bool> accepting_{true};
  std::vector<std::thread> threads_;
};

}  // namespace sie::node
