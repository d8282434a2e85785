#include "gateway/router.h"

#include <algorithm>

namespace sie::gateway {

Router::Router()
    : snapshot_(std::make_shared<const Snapshot>(Snapshot{1, {}})),
      none_(std::make_shared<const std::vector<std::uint32_t>>()) {}

void Router::setTriggers(std::vector<Trigger> triggers) {
  std::lock_guard lock(mu_);
  const std::uint64_t epoch = snapshot_->epoch + 1;
  snapshot_ = std::make_shared<const Snapshot>(Snapshot{epoch, std::move(triggers)});
  epoch_.store(epoch, std::memory_order_release);
}

Router::Targets Router::route(Symbol sensor) const {
  const std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
  return cache_.with(sensor, [&](CacheEntry& entry) {
    if (entry.epoch != epoch) {
      std::shared_ptr<const Snapshot> snapshot;
      {
        std::lock_guard lock(mu_);
        snapshot = snapshot_;
      }
      entry.targets = match(sensor, *snapshot);
      entry.epoch = snapshot->epoch;
    }
    return entry.targets;
  });
}

Router::Targets Router::match(Symbol sensor, const Snapshot& snapshot) const {
  std::vector<std::uint32_t> targets;
  const std::string_view id = sensor.str();
  for (const Trigger& trigger : snapshot.triggers) {
    if (trigger.pattern.matches(id) &&
        std::find(targets.begin(), targets.end(), trigger.target) == targets.end()) {
      targets.push_back(trigger.target);
    }
  }
  if (targets.empty()) return none_;
  return std::make_shared<const std::vector<std::uint32_t>>(std::move(targets));
}

}  // namespace sie::gateway
