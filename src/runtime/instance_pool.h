// InstancePool: the instances of one function, from scaling.min (kept warm) up to scaling.max.
// An invocation leases an idle instance, or starts one (a cold start: counted and timed), or
// waits for one to come back. Instances keep no state, so the pool may drop and recreate them at
// will; an instance that is no longer healthy (its worker died, or was killed after a timeout)
// is dropped when it comes back, and the next acquire starts a new one. Repeated failed starts,
// and workers dying before they completed one invocation, back off further starts (100 ms
// doubling to 30 s, reset by a completed invocation):
// meanwhile acquire fails at once instead of spawning a crash-looping function again.
//
// tick(), called periodically, scales: up ahead of queued work (in-flight + queued invocations
// over targetConcurrency, at most max), down when instances idle past scaling.idleTimeout (to
// zero with min 0), and with scaling.prewarm by the learned keep-alive policy (keep_alive.h):
// unloaded right after going idle, loaded again just before the next arrival is expected.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/log.h"
#include "runtime/keep_alive.h"
#include "sie/clock.h"
#include "sie/function.h"
#include "sie/metrics.h"

namespace sie::node {

class InstancePool {
 public:
  class Lease {
   public:
    Lease(InstancePool* pool, std::unique_ptr<FunctionInstance> instance, bool served)
        : pool_(pool), instance_(std::move(instance)), served_(served) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (instance_) pool_->release(std::move(instance_), served_);
    }
    FunctionInstance& operator*() { return *instance_; }
    FunctionInstance* operator->() { return instance_.get(); }

   private:
    InstancePool* pool_;
    std::unique_ptr<FunctionInstance> instance_;
    bool served_;  // it completed an invocation before this lease
  };

  // Retires the function with its runtime (Executor::retire).
  ~InstancePool();
  InstancePool(const InstancePool&) = delete;
  InstancePool& operator=(const InstancePool&) = delete;
  InstancePool(std::shared_ptr<Executor> runtime, const FunctionSpec& spec,
               const Clock& clock = systemClock());

  // Starts scaling.min instances.
  Status warm();
  Result<Lease> acquire();
  // Scales for `queued` invocations waiting for this function.
  void tick(std::size_t queued);
  // Stops every idle instance (node stop); leased ones stop when they come back.
  void drain();
  // New bounds at run time (the control API's scale); the next tick() applies them.
  void setScaling(ScalingPolicy scaling);
  [[nodiscard]] ScalingPolicy scaling() const;

  [[nodiscard]] int live() const;
  [[nodiscard]] int idle() const;
  [[nodiscard]] KeepAlivePolicy::Windows keepAlive() const;
  [[nodiscard]] const Executor& runtime() const { return *runtime_; }

 private:
  struct Idle {
    std::unique_ptr<FunctionInstance> instance;
    std::int64_t since_ns = 0;
    bool served = false;
  };
  void release(std::unique_ptr<FunctionInstance> instance, bool served);
  // Starts one instance outside the lock (the slot is reserved by the caller).
  Result<std::unique_ptr<FunctionInstance>> start();
  // Starts one instance for the idle list, if a slot is free; false when none was started.
  bool startIdle();
  // A start failed or a new worker died: back off further starts (crash loops). Under mu_.
  void backOff(std::int64_t now_ns, const std::string& why);
  // Adds an idle span that ends now to the idle-time counter.
  void countIdle(const Idle& idle, std::int64_t now_ns);

  std::shared_ptr<Executor> runtime_;
  const FunctionSpec& spec_;
  Log log_;  // [fn:name@version]
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable returned_;
  ScalingPolicy scaling_;
  std::vector<Idle> idle_;  // oldest first
  int live_ = 0;            // idle + leased + starting
  int leased_ = 0;
  std::int64_t idle_since_ns_ = 0;  // when leased_ last dropped to 0; 0 = never ran
  int failures_ = 0;  // consecutive failed starts and deaths of workers that never served
  std::int64_t no_start_until_ns_ = 0;
  KeepAlivePolicy keep_alive_;
  Counter& cold_starts_;
  Counter& starts_;
  Histogram& start_seconds_;
  Gauge& instances_;
  Counter& replaced_;
  Counter& idle_ms_;
  Counter& prewarms_;
  Counter& backoffs_;
};

}  // namespace sie::node
