// Router: which function targets a sensor's readings trigger. Triggers (MQTT-style pattern ->
// target id) are replaced as a whole at run time; lookups are cached per sensor Symbol and the
// cache is rebuilt lazily, sensor by sensor, after each change.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/topic_pattern.h"
#include "gateway/sensor_table.h"
#include "sie/symbol.h"

namespace sie::gateway {

struct Trigger {
  TopicPattern pattern;
  std::uint32_t target = 0;  // meaning is the downstream's (e.g. a function slot)
};

class Router {
 public:
  // Immutable once returned; safe to keep while triggers change.
  using Targets = std::shared_ptr<const std::vector<std::uint32_t>>;

  Router();

  // Replaces all triggers. Thread-safe; lookups that start after it returns see the new set.
  void setTriggers(std::vector<Trigger> triggers);

  // The targets whose patterns match `sensor`, each once, in trigger order (never null).
  // Thread-safe; after the first lookup per trigger set, an array index under a shard lock.
  [[nodiscard]] Targets route(Symbol sensor) const;

 private:
  struct Snapshot {
    std::uint64_t epoch = 0;
    std::vector<Trigger> triggers;
  };
  struct CacheEntry {
    std::uint64_t epoch = 0;  // 0: never computed
    Targets targets;
  };

  [[nodiscard]] Targets match(Symbol sensor, const Snapshot& snapshot) const;

  mutable std::mutex mu_;  // guards snapshot_
  std::shared_ptr<const Snapshot> snapshot_;
  std::atomic<std::uint64_t> epoch_{1};
  Targets none_;  // shared empty list
  mutable SensorTable<CacheEntry> cache_;
};

}  // namespace sie::gateway
