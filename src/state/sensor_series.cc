#include "state/sensor_series.h"

#include <algorithm>
#include <utility>

namespace sie::state {

StoredReading StoredReading::from(const Telemetry& reading) {
  StoredReading stored;
  stored.ts_ns = reading.ts_ns;
  stored.quality = reading.quality;
  stored.flag = Sample::flagOf(reading.flag);
  if (reading.values.size() == 1 && reading.sample_period_ns == 0) {
    stored.value = reading.values.front();
  } else {
    stored.block = std::make_shared<const Block>(Block{reading.sample_period_ns, reading.values});
  }
  return stored;
}

Sample StoredReading::toSample() const {
  Sample sample;
  sample.ts_ns = ts_ns;
  sample.quality = quality;
  sample.flag = flag;
  if (block) {
    sample.values.assign(block->values.begin(), block->values.end());
  } else {
    sample.values.assign(1, value);
  }
  return sample;
}

SensorSeries::SensorSeries(std::int64_t db_id, std::size_t capacity, std::int64_t covered_from)
    : db_id_(db_id), capacity_(capacity), covered_from_(capacity == 0 ? kMaxTs : covered_from) {}

void SensorSeries::append(StoredReading reading) {
  std::lock_guard lock(mu_);
  remember(reading);
  writes_.pending.push_back(std::move(reading));
}

void SensorSeries::remember(const StoredReading& reading) {
  if (capacity_ == 0 || reading.ts_ns < covered_from_) return;
  if (size_ == capacity_) {
    if (reading.ts_ns < at(0).ts_ns) {
      // It would be the oldest and evicted at once: keep the ring, narrow what it covers.
      covered_from_ = reading.ts_ns + 1;
      return;
    }
    const std::int64_t evicted = at(0).ts_ns;
    covered_from_ = std::max(covered_from_, evicted == kMaxTs ? kMaxTs : evicted + 1);
    at(0) = reading;  // the oldest slot becomes the newest
    head_ = (head_ + 1) % ring_.size();
  } else {
    ring_.push_back(reading);  // while growing, head_ stays 0
    ++size_;
  }
  // Out-of-order arrivals move back into timestamp order (after equal timestamps).
  for (std::size_t i = size_ - 1; i > 0 && at(i - 1).ts_ns > at(i).ts_ns; --i) {
    std::swap(at(i - 1), at(i));
  }
}

std::size_t SensorSeries::lowerBound(std::int64_t ts) const {
  std::size_t lo = 0;
  std::size_t hi = size_;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (at(mid).ts_ns < ts) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

std::optional<std::vector<Sample>> SensorSeries::lastFromMemory(std::int64_t until_ns,
                                                                std::size_t n) {
  std::lock_guard lock(mu_);
  const std::size_t end = until_ns == kMaxTs ? size_ : lowerBound(until_ns + 1);
  const std::size_t first = lowerBound(covered_from_);
  const std::size_t covered = end > first ? end - first : 0;
  // With covered_from_ == kMinTs the ring holds every reading there is.
  if (covered < n && covered_from_ != kMinTs) return std::nullopt;
  const std::size_t take = std::min(n, covered);
  std::vector<Sample> out;
  out.reserve(take);
  for (std::size_t i = end - take; i < end; ++i) out.push_back(at(i).toSample());
  return out;
}

std::optional<std::vector<Sample>> SensorSeries::rangeFromMemory(std::int64_t from_ns,
                                                                 std::int64_t to_ns,
                                                                 std::size_t limit) {
  std::lock_guard lock(mu_);
  if (from_ns < covered_from_) return std::nullopt;
  std::vector<Sample> out;
  for (std::size_t i = lowerBound(from_ns); i < size_ && out.size() < limit; ++i) {
    if (at(i).ts_ns >= to_ns) break;
    out.push_back(at(i).toSample());
  }
  return out;
}

std::vector<StoredReading> SensorSeries::unwritten() {
  std::lock_guard lock(mu_);
  std::vector<StoredReading> out;
  out.reserve(writes_.in_flight.size() + writes_.pending.size());
  out.insert(out.end(), writes_.in_flight.begin(), writes_.in_flight.end());
  out.insert(out.end(), writes_.pending.begin(), writes_.pending.end());
  return out;
}

const std::vector<StoredReading>& SensorSeries::takeForWrite() {
  std::lock_guard lock(mu_);
  writes_.take();
  return writes_.in_flight;
}

void SensorSeries::commitDone() {
  std::lock_guard lock(mu_);
  writes_.committed();
}

}  // namespace sie::state
