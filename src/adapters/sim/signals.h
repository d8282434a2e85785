// Building blocks shared by the domain models: slow wander, daily shapes, fixed-rate ticks.
#pragma once

#include <cstdint>

#include "adapters/sim/random.h"

namespace sie::sim {

inline constexpr std::int64_t kNsPerSecond = 1'000'000'000;

// Slow random wander around zero: an Ornstein-Uhlenbeck process, discretized exactly so the step
// size does not change its statistics. Starts at 0.
class Wander {
 public:
  Wander(double tau_s, double sigma) : tau_s_(tau_s), sigma_(sigma) {}
  // Moves dt_s seconds ahead, drawing exactly one normal from `rng`; returns the new value.
  double step(double dt_s, Rng& rng);
  [[nodiscard]] double value() const { return x_; }

 private:
  double tau_s_;
  double sigma_;  // stationary standard deviation
  double x_ = 0.0;
};

// Hours since midnight UTC, in [0, 24).
double hourOfDay(std::int64_t ts_ns);

// A bump of height 1 centred on peak_hour with the given width (a Gaussian on the 24-hour circle),
// to shape daily demand curves.
double dailyBump(double hour, double peak_hour, double width_h);

// First-order lag: moves `state` towards `target` with time constant tau_s.
double lag(double state, double target, double dt_s, double tau_s);

// Readings at start + k * period for k = 1, 2, ...: the first one comes after the start.
class Ticker {
 public:
  Ticker(std::int64_t start_ns, std::int64_t period_ns) : start_(start_ns), period_(period_ns) {}
  [[nodiscard]] std::int64_t next() const { return start_ + k_ * period_; }
  void advance() { ++k_; }
  [[nodiscard]] double periodS() const {
    return static_cast<double>(period_) / static_cast<double>(kNsPerSecond);
  }

 private:
  std::int64_t start_;
  std::int64_t period_;
  std::int64_t k_ = 1;
};

}  // namespace sie::sim
