#include "adapters/sim/signals.h"

#include <cmath>

namespace sie::sim {

double Wander::step(double dt_s, Rng& rng) {
  const double a = std::exp(-dt_s / tau_s_);
  x_ = a * x_ + sigma_ * std::sqrt(1.0 - a * a) * rng.normal();
  return x_;
}

double hourOfDay(std::int64_t ts_ns) {
  constexpr std::int64_t kDayNs = 86'400 * kNsPerSecond;
  std::int64_t in_day = ts_ns % kDayNs;
  if (in_day < 0) in_day += kDayNs;
  return static_cast<double>(in_day) / (3600.0 * static_cast<double>(kNsPerSecond));
}

double dailyBump(double hour, double peak_hour, double width_h) {
  double d = std::fabs(hour - peak_hour);
  if (d > 12.0) d = 24.0 - d;
  return std::exp(-0.5 * (d / width_h) * (d / width_h));
}

double lag(double state, double target, double dt_s, double tau_s) {
  return target + (state - target) * std::exp(-dt_s / tau_s);
}

}  // namespace sie::sim
