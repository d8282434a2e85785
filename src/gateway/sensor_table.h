// Per-sensor state in flat vectors indexed by Symbol id (ids are dense), split into shards by
// id so concurrent sources touching different sensors rarely share a lock. A shard's lock is
// held only while the caller's function runs; one sensor always maps to the same shard, so its
// updates are serialized and a later move to one worker thread per shard keeps the layout.
#pragma once

#include <array>
#include <cstddef>
#include <mutex>
#include <vector>

#include "sie/symbol.h"

namespace sie::gateway {

template <typename State>
class SensorTable {
 public:
  static constexpr std::size_t kShards = 64;

  // Runs fn(State&) for `sensor` under its shard's lock and returns fn's result. A sensor seen
  // for the first time starts from a default-constructed State. `fn` must not call back into
  // this table.
  template <typename Fn>
  decltype(auto) with(Symbol sensor, Fn&& fn) {
    Shard& shard = shards_[sensor.id() % kShards];
    const std::size_t slot = sensor.id() / kShards;
    std::lock_guard lock(shard.mu);
    if (slot >= shard.states.size()) shard.states.resize(slot + 1);
    return fn(shard.states[slot]);
  }

 private:
  struct alignas(64) Shard {  // one cache line each: no false sharing between shard locks
    std::mutex mu;
    std::vector<State> states;
  };
  std::array<Shard, kShards> shards_;
};

}  // namespace sie::gateway
