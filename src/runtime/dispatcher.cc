#include "runtime/dispatcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/container/small_vector.hpp>

#include "gateway/telemetry_json.h"
#include "sie/clock.h"

namespace sie::node {
namespace {

// Events a worker takes from one lane before it yields the lane to others (fairness vs. cache).
constexpr int kLaneBatch = 32;

}  // namespace

Dispatcher::Dispatcher(DispatcherOptions options, DeadLetterStore& dead_letters, const Clock& clock)
    : options_(options), dead_letters_(dead_letters), clock_(clock), targets_(kMaxTargets) {
  if (options_.workers <= 0) {
    options_.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
}

Dispatcher::~Dispatcher() { stop(std::chrono::milliseconds(0)); }

Result<std::uint32_t> Dispatcher::addTarget(std::string name, Handler handler) {
  return addTarget(
      std::move(name),
      [handler = std::move(handler)](std::span<const Event* const> events, int) {
        for (const Event* event : events) handler(*event);
        return Handled::all(events.size());
      },
      BatchPolicy{});
}

Result<std::uint32_t> Dispatcher::addTarget(std::string name, BatchHandler handler,
                                            BatchPolicy batch) {
  std::lock_guard lock(add_mu_);
  const std::uint32_t id = target_count_.load();
  if (id >= kMaxTargets) {
    return fail(Errc::kOverload,
                fmt::format("the dispatcher holds at most {} functions; restart the node to "
                            "reclaim the queues of deleted ones",
                            kMaxTargets));
  }
  auto target = std::make_unique<Target>();
  const Labels labels{{"function", name}};
  MetricsRegistry& m = metrics();
  target->depth_gauge =
      &m.gauge("sie_queue_depth", "Events queued or running per function.", labels);
  target->dropped = &m.counter("sie_queue_dropped_total",
                               "Events dropped by the drop-oldest overload policy.", labels);
  target->dead_lettered =
      &m.counter("sie_queue_dead_lettered_total",
                 "Events sent to the dead-letter store by a full queue.", labels);
  target->refused = &m.counter("sie_queue_refused_total",
                               "Events refused to a blocked source after blockTimeout.", labels);
  target->wait = &m.histogram("sie_queue_wait_seconds", "Time events wait in the queue.", labels);
  target->calls = &m.counter("sie_dispatch_calls_total",
                             "Handler calls; each takes one event or one micro-batch.", labels);
  target->handled =
      &m.counter("sie_dispatch_events_total", "Events handed to the function.", labels);
  target->name = std::move(name);
  target->handler = std::move(handler);
  target->max_batch = std::max(1, batch.max_size);
  target->max_delay_us = batch.max_delay.count();
  for (int i = 0; i < options_.lanes; ++i) {
    auto lane = std::make_unique<Lane>();
    lane->target = target.get();
    target->lanes.push_back(std::move(lane));
  }
  targets_[id] = std::move(target);
  target_count_.store(id + 1, std::memory_order_release);
  return id;
}

void Dispatcher::setBatch(std::uint32_t target, BatchPolicy batch) {
  if (target >= target_count_.load(std::memory_order_acquire)) return;
  targets_[target]->max_batch = std::max(1, batch.max_size);
  targets_[target]->max_delay_us = batch.max_delay.count();
}

void Dispatcher::setInline(std::uint32_t target, bool allowed) {
  if (target >= target_count_.load(std::memory_order_acquire)) return;
  targets_[target]->inline_allowed = allowed;
}

void Dispatcher::start() {
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { workerLoop(); });
}

Status Dispatcher::deliver(Event&& event, std::span<const std::uint32_t> targets) {
  if (!accepting_.load(std::memory_order_acquire)) {
    return fail(Errc::kOverload, "the node is shutting down");
  }
  if (targets.empty()) return ok();
  const std::uint32_t key = event.telemetry ? event.telemetry->sensor.id() : 0;
  // Admission for every target before the event is moved: a refusal by all of them leaves it
  // untouched for the caller, and a refusal by some is dead-lettered here for those alone.
  boost::container::small_vector<Lane*, 4> admitted;
  boost::container::small_vector<Error, 4> refused;
  bool taken = false;  // admitted or parked
  for (const std::uint32_t id : targets) {
    if (id >= target_count_.load(std::memory_order_acquire)) {
      return fail(Errc::kInternal, fmt::format("dispatcher: unknown target {}", id));
    }
    Target& target = *targets_[id];
    Lane& lane = *target.lanes[key % target.lanes.size()];
    Result<bool> admission = admit(target, lane, event);
    if (!admission) {
      refused.push_back(admission.error());
    } else {
      taken = true;
      if (*admission) admitted.push_back(&lane);
    }
  }
  if (!taken) return tl::unexpected(refused.front());
  for (const Error& why : refused) SIE_CHECK(dead_letters_.put(letterFor(event, why.message)));
  if (admitted.empty()) return ok();
  // One shared copy for every function the event fans out to.
  auto shared = std::make_shared<const Event>(std::move(event));
  for (Lane* lane : admitted) enqueue(*lane->target, *lane, shared);
  return ok();
}

DeadLetter Dispatcher::letterFor(const Event& event, std::string reason) const {
  DeadLetter letter;
  letter.ts_ns = clock_.nowNs();
  letter.origin = "dispatcher";
  letter.reason = std::move(reason);
  letter.subject = event.subject;
  letter.payload = event.data.empty() && event.telemetry
                       ? gateway::renderTelemetryJson(*event.telemetry)
                       : event.data;
  return letter;
}

template <typename Pred>
bool Dispatcher::waitForSpace(std::chrono::milliseconds timeout, Pred ready) {
  std::unique_lock lock(space_mu_);
  waiters_.fetch_add(1);
  const bool result = space_cv_.wait_for(lock, timeout, ready);
  waiters_.fetch_sub(1);
  return result;
}

Result<bool> Dispatcher::admit(Target& target, Lane& lane, const Event& event) {
  if (target.depth.load(std::memory_order_relaxed) < options_.queue_capacity) return true;
  switch (options_.overload) {
    case OverloadPolicy::kBlock: {
      const bool space = waitForSpace(options_.block_timeout, [&] {
        return target.depth.load() < options_.queue_capacity || stopping_.load();
      });
      if (space && !stopping_.load()) return true;
      target.refused->inc();
      return fail(Errc::kOverload,
                  fmt::format("function {} queue is full ({} events) for {} ms", target.name,
                              options_.queue_capacity, options_.block_timeout.count()));
    }
    case OverloadPolicy::kDropOldest: {
      std::lock_guard lock(lane.mu);
      if (!lane.events.empty()) {
        lane.events.pop_front();
        target.depth.fetch_sub(1, std::memory_order_relaxed);
        queued_.fetch_sub(1, std::memory_order_relaxed);
        target.dropped->inc();
      }
      return true;  // over capacity by at most one per lane while the lane is being worked
    }
    case OverloadPolicy::kDeadLetter: {
      target.dead_lettered->inc();
      SIE_CHECK(
          dead_letters_.put(letterFor(event, fmt::format("function {} queue is full ({} events)",
                                                         target.name, options_.queue_capacity))));
      return false;  // accepted: parked with its reason
    }
  }
  return true;
}

void Dispatcher::enqueue(Target& target, Lane& lane, std::shared_ptr<const Event> event) {
  target.depth.fetch_add(1, std::memory_order_relaxed);
  queued_.fetch_add(1, std::memory_order_relaxed);
  // A function that delivers events itself (a decision triggering another) queues them: one
  // level of inline running at most, so a chain of functions cannot grow this thread's stack.
  thread_local bool running_inline = false;
  const bool may_run_here = !running_inline &&
                            target.inline_allowed.load(std::memory_order_relaxed) &&
                            target.max_batch.load(std::memory_order_relaxed) == 1;
  bool run_here = false;
  bool first = false;
  bool filling = false;
  {
    std::lock_guard lock(lane.mu);
    if (may_run_here && !lane.scheduled) {  // idle: no event queued or running
      lane.scheduled = true;
      run_here = true;
    } else {
      lane.events.push_back(std::move(event));
      if (!lane.scheduled) {
        lane.scheduled = true;
        first = true;
      }
      filling = lane.filling;
    }
  }
  if (run_here) {
    running_inline = true;
    runInline(target, lane, std::move(event));
    running_inline = false;
    return;
  }
  if (filling) lane.more.notify_one();
  if (first) schedule(lane);
}

void Dispatcher::workerLoop() {
  while (true) {
    // An idle worker sleeps at once: spinning for the next lane took the core the broker and the
    // sources need on a small machine (a 200 us spin per reading was most of the node's CPU at
    // 1,000 readings/s), and under load lanes are rarely empty, so workers seldom sleep.
    Lane* lane = nullptr;
    {
      std::unique_lock lock(ready_mu_);
      while (true) {
        wakeParked();
        if (!ready_.empty() || stopping_.load()) break;
        ++sleepers_;
        if (parked_.empty()) {
          ready_cv_.wait(lock);
        } else {
          // A copy: another worker may take that entry out of parked_ while this one waits.
          const auto due = parked_.begin()->first;
          ready_cv_.wait_until(lock, due);
        }
        --sleepers_;
      }
      // Stopping and nothing left: a lane this worker parked came back above, at once.
      if (ready_.empty()) return;
      lane = ready_.front();
      ready_.pop_front();
      // While this worker is busy, a sleeping one keeps the parked lanes' timers.
      if (!parked_.empty() && sleepers_ > 0) ready_cv_.notify_one();
    }
    runLane(*lane);
  }
}

void Dispatcher::wakeParked() {
  if (parked_.empty()) return;  // the usual case: no clock read on a worker's every turn
  const auto now = std::chrono::steady_clock::now();
  const bool all = stopping_.load();
  while (!parked_.empty() && (all || parked_.begin()->first <= now)) {
    ready_.push_back(parked_.begin()->second);
    parked_.erase(parked_.begin());
  }
}

void Dispatcher::schedule(Lane& lane) {
  bool wake = false;
  {
    std::lock_guard lock(ready_mu_);
    ready_.push_back(&lane);
    wake = sleepers_ > 0;
  }
  if (wake) ready_cv_.notify_one();
}

void Dispatcher::takeBatch(Lane& lane, std::size_t max,
                           std::vector<std::shared_ptr<const Event>>& out) {
  const auto delay =
      std::chrono::microseconds(lane.target->max_delay_us.load(std::memory_order_relaxed));
  const auto deadline = std::chrono::steady_clock::now() + delay;
  std::unique_lock lock(lane.mu);
  bool waited_out = false;
  while (true) {
    while (out.size() < max && !lane.events.empty()) {
      out.push_back(std::move(lane.events.front()));
      lane.events.pop_front();
    }
    // An empty lane means the batch was taken by the caller's previous round: do not wait.
    if (out.empty() || out.size() >= max || delay.count() == 0 || waited_out || stopping_.load()) {
      return;
    }
    // Asleep until the batch fills or maxDelay passes: spinning here held a core for maxDelay.
    lane.filling = true;
    waited_out = lane.more.wait_until(lock, deadline) == std::cv_status::timeout;
    lane.filling = false;
  }
}

Handled Dispatcher::handle(Target& target, std::span<const std::shared_ptr<const Event>> batch,
                           int failures) {
  boost::container::small_vector<const Event*, 16> events;
  const std::int64_t now = monotonicNs();
  for (const auto& event : batch) {
    if (event->ingest_ns > 0) {
      target.wait->observe(static_cast<double>(now - event->ingest_ns) * 1e-9);
    }
    events.push_back(event.get());
  }
  target.calls->inc();
  target.handled->inc(batch.size());
  Handled handled =
      target.handler(std::span<const Event* const>(events.data(), events.size()), failures);
  handled.done = std::min(handled.done, batch.size());
  const std::size_t done = handled.done;
  target.depth_gauge->set(static_cast<double>(target.depth.fetch_sub(done) - done));
  queued_.fetch_sub(done);
  // seq_cst on depth/queued_ and waiters_: either a waiter sees the new depth or we see it.
  if (waiters_.load() > 0) {
    std::lock_guard lock(space_mu_);
    space_cv_.notify_all();
  }
  return handled;
}

bool Dispatcher::retryLater(Lane& lane, std::span<const std::shared_ptr<const Event>> batch,
                            const Handled& handled, int failures) {
  if (handled.done >= batch.size()) {
    lane.retrying.reset();
    return false;
  }
  lane.failures = (handled.done == 0 ? failures : 0) + 1;
  lane.retrying = batch[handled.done];
  {
    std::lock_guard lock(lane.mu);
    lane.events.insert(lane.events.begin(),
                       batch.begin() + static_cast<std::ptrdiff_t>(handled.done), batch.end());
  }
  bool wake = false;
  {
    std::lock_guard lock(ready_mu_);
    parked_.emplace(std::chrono::steady_clock::now() + handled.retry_after, &lane);
    wake = sleepers_ > 0;
  }
  if (wake) ready_cv_.notify_one();  // it waits until the earliest retry, perhaps this one
  return true;
}

void Dispatcher::runInline(Target& target, Lane& lane, std::shared_ptr<const Event> event) {
  const Handled handled = handle(target, {&event, 1}, 0);
  if (retryLater(lane, {&event, 1}, handled, 0)) return;
  release(lane);  // what another thread queued meanwhile goes to the workers, in order
}

void Dispatcher::release(Lane& lane) {
  bool again = false;
  {
    std::lock_guard lock(lane.mu);
    if (lane.events.empty()) {
      lane.scheduled = false;
    } else {
      again = true;
    }
  }
  if (again) schedule(lane);
}

void Dispatcher::runLane(Lane& lane) {
  Target& target = *lane.target;
  const auto max = static_cast<std::size_t>(target.max_batch.load(std::memory_order_relaxed));
  std::vector<std::shared_ptr<const Event>> batch;
  for (std::size_t done = 0; done < std::max<std::size_t>(kLaneBatch, max);) {
    batch.clear();
    takeBatch(lane, max, batch);
    if (batch.empty()) break;
    const int failures = batch.front() == lane.retrying ? lane.failures : 0;
    if (retryLater(lane, batch, handle(target, batch, failures), failures)) return;
    done += batch.size();
  }
  release(lane);
}

bool Dispatcher::drain(std::chrono::milliseconds deadline) {
  return waitForSpace(deadline, [&] { return queued_.load() == 0; });
}

void Dispatcher::stop(std::chrono::milliseconds deadline) {
  accepting_.store(false, std::memory_order_release);
  if (threads_.empty()) return;
  if (!drain(deadline)) {
    spdlog::warn("dispatcher: {} events still queued at shutdown", queued());
  }
  stopping_.store(true);
  {
    std::lock_guard lock(ready_mu_);  // no worker between its predicate check and its wait
  }
  { std::lock_guard lock(space_mu_); }
  ready_cv_.notify_all();
  space_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace sie::node
