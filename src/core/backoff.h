// Reconnect delays: exponential with full jitter (a uniform delay up to min * 2^attempt, capped),
// so many clients of a restarted server do not come back in step.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace sie {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max)
      : min_(min), max_(max), random_(std::random_device{}()) {}

  // The delay before the next attempt; each call doubles the cap up to max.
  std::chrono::milliseconds next() {
    const std::int64_t cap =
        std::min<std::int64_t>(max_.count(), min_.count() << std::min(attempt_, 20));
    ++attempt_;
    std::uniform_int_distribution<std::int64_t> pick(1, std::max<std::int64_t>(1, cap));
    return std::chrono::milliseconds(pick(random_));
  }
  void reset() { attempt_ = 0; }
  [[nodiscard]] int attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  int attempt_ = 0;
  std::minstd_rand random_;
};

}  // namespace sie
