// Time behind an interface so tests can inject a fake clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace sie {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, Unix epoch nanoseconds (event timestamps).
  [[nodiscard]] virtual std::int64_t nowNs() const = 0;
  // Monotonic nanoseconds (latencies, deadlines).
  [[nodiscard]] virtual std::int64_t monotonicNs() const = 0;
};

// The real clocks.
const Clock& systemClock();

inline std::int64_t monotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace sie
