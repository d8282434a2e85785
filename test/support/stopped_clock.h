// A clock stopped at one moment, for tests that check which clock stamped something.
#pragma once

#include <cstdint>

#include "sie/clock.h"

namespace sie::testing {

class StoppedClock final : public Clock {
 public:
  static constexpr std::int64_t kNowNs = 1'700'000'000'000'000'000;
  [[nodiscard]] std::int64_t nowNs() const override { return kNowNs; }
  [[nodiscard]] std::int64_t monotonicNs() const override { return 42; }
};

}  // namespace sie::testing
