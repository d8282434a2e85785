// InstancePool: the instances of one function, from scaling.min (kept warm) up to scaling.max.
// An invocation leases an idle instance, or starts one (a cold start, counted and timed), or waits
// for one to come back. Instances keep no state, so the pool may drop and recreate them at will;
// an instance that is no longer healthy (its worker died, or was killed after a timeout) is
// dropped when it comes back, and the next acquire starts a new one.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "sie/function.h"
#include "sie/metrics.h"

namespace sie::node {

class InstancePool {
 public:
  class Lease {
   public:
    Lease(InstancePool* pool, std::unique_ptr<FunctionInstance> instance)
        : pool_(pool), instance_(std::move(instance)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (instance_) pool_->release(std::move(instance_));
    }
    FunctionInstance& operator*() { return *instance_; }
    FunctionInstance* operator->() { return instance_.get(); }

   private:
    InstancePool* pool_;
    std::unique_ptr<FunctionInstance> instance_;
  };

  InstancePool(std::shared_ptr<Executor> runtime, const FunctionSpec& spec);

  // Starts scaling.min instances.
  Status warm();
  Result<Lease> acquire();
  [[nodiscard]] int live() const;
  [[nodiscard]] const Executor& runtime() const { return *runtime_; }

 private:
  void release(std::unique_ptr<FunctionInstance> instance);
  Result<std::unique_ptr<FunctionInstance>> start();

  std::shared_ptr<Executor> runtime_;
  const FunctionSpec& spec_;
  mutable std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<FunctionInstance>> idle_;
  int live_ = 0;  // idle + leased + starting
  Counter& cold_starts_;
  Histogram& cold_start_seconds_;
  Gauge& instances_;
  Counter& replaced_;
};

}  // namespace sie::node
