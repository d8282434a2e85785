#include "node/instance_pool.h"

#include <spdlog/spdlog.h>

#include "sie/clock.h"

namespace sie::node {

InstancePool::InstancePool(std::shared_ptr<Executor> runtime, const FunctionSpec& spec)
    : runtime_(std::move(runtime)),
      spec_(spec),
      cold_starts_(metrics().counter("sie_cold_starts_total", "Function instances started.",
                                     {{"function", spec.id()}})),
      cold_start_seconds_(metrics().histogram("sie_cold_start_seconds",
                                              "Time to start a function instance.",
                                              {{"function", spec.id()}})),
      instances_(
          metrics().gauge("sie_instances", "Live function instances.", {{"function", spec.id()}})),
      replaced_(metrics().counter("sie_instances_failed_total",
                                  "Instances dropped because they died or were killed (timeouts).",
                                  {{"function", spec.id()}})) {}

Result<std::unique_ptr<FunctionInstance>> InstancePool::start() {
  const std::int64_t begin = monotonicNs();
  auto instance = runtime_->instantiate(spec_);
  const double seconds = static_cast<double>(monotonicNs() - begin) * 1e-9;
  if (instance) {
    cold_starts_.inc();
    cold_start_seconds_.observe(seconds);
    spdlog::debug("[{}] instance started in {:.3f} ms", spec_.id(), seconds * 1e3);
  }
  return instance;
}

Status InstancePool::warm() {
  for (int i = 0; i < spec_.scaling.min; ++i) {
    auto instance = SIE_TRY(start());
    std::lock_guard lock(mu_);
    ++live_;
    idle_.push_back(std::move(instance));
  }
  instances_.set(live());
  return ok();
}

Result<InstancePool::Lease> InstancePool::acquire() {
  std::unique_lock lock(mu_);
  while (idle_.empty() && live_ >= spec_.scaling.max) returned_.wait(lock);
  if (!idle_.empty()) {
    auto instance = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(instance));
  }
  ++live_;  // reserve the slot, then start outside the lock
  lock.unlock();
  auto instance = start();
  lock.lock();
  if (!instance) {
    --live_;
    returned_.notify_one();
    return tl::unexpected(instance.error());
  }
  instances_.set(live_);
  return Lease(this, std::move(*instance));
}

void InstancePool::release(std::unique_ptr<FunctionInstance> instance) {
  if (!instance->healthy()) {
    instance.reset();  // outside the lock: stopping a worker process takes a moment
    std::lock_guard lock(mu_);
    --live_;
    instances_.set(live_);
    replaced_.inc();
  } else {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(instance));
  }
  returned_.notify_one();
}

int InstancePool::live() const {
  std::lock_guard lock(mu_);
  return live_;
}

}  // namespace sie::node
