// RedisTimeSeries: one Redis stream per sensor, written through the outbox, with a ring of each
// sensor's newest readings in memory.
//
// The ring holds every reading this node appended since it started (up to its capacity), so
// windows are answered without a round trip and keep working while Redis is down. The first
// query for a sensor seeds the ring from Redis; readings the outbox has not delivered yet are
// always newer than what Redis holds (a sensor's readings are appended in order), so Redis's
// answer plus the ring's newer readings is the whole series. One node writes a sensor at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "sie/state.h"
#include "state/redis/keys.h"
#include "state/redis/outbox.h"
#include "state/redis/reader.h"

namespace sie::state::redis {

class RedisTimeSeries final : public TimeSeriesStore {
 public:
  // `max_readings`: stream length per sensor (trimmed approximately, as Redis does cheaply).
  // `catch_up`: how long a query older than memory waits for queued writes to reach Redis.
  RedisTimeSeries(const Keys& keys, Outbox& outbox, Reader& reader, std::size_t memory_window,
                  std::size_t max_readings, std::chrono::milliseconds catch_up);

  Status append(const Telemetry& reading) override;
  Result<std::vector<Sample>> range(Symbol sensor, std::int64_t from_ns, std::int64_t to_ns,
                                    std::size_t limit) override;
  Result<std::vector<Sample>> lastUntil(Symbol sensor, std::int64_t until_ns,
                                        std::size_t n) override;

 private:
  struct Series {
    std::mutex mu;
    std::deque<Sample> ring;  // oldest first
    bool complete = false;    // the ring holds every reading the sensor has
  };

  Series& series(Symbol sensor);
  // Redis's readings from a query, merged with the ring's newer ones; seeds the ring.
  std::vector<Sample> merge(Series& s, std::vector<Sample> stored, bool all_of_them);

  const Keys& keys_;
  Outbox& outbox_;
  Reader& reader_;
  const std::size_t memory_window_;
  const std::string max_readings_;
  const std::chrono::milliseconds catch_up_;

  std::shared_mutex index_mu_;
  std::unordered_map<std::uint32_t, std::unique_ptr<Series>> series_;
};

}  // namespace sie::state::redis
