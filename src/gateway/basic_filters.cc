#include "gateway/basic_filters.h"

#include <cmath>
#include <optional>

namespace sie::gateway {
namespace {

struct LastValue final : FilterState {
  std::optional<double> value;
};

struct LastTime final : FilterState {
  std::optional<std::int64_t> ts_ns;
};

}  // namespace

std::unique_ptr<FilterState> DeadbandFilter::newState() const {
  return std::make_unique<LastValue>();
}

Filter::Verdict DeadbandFilter::apply(FilterState& state, Telemetry& reading) const {
  auto& last = static_cast<LastValue&>(state).value;
  const double x = reading.value();
  if (last && std::fabs(x - *last) < delta_) return Verdict::kDrop;
  last = x;
  return Verdict::kPass;
}

std::unique_ptr<FilterState> EmaFilter::newState() const { return std::make_unique<LastValue>(); }

Filter::Verdict EmaFilter::apply(FilterState& state, Telemetry& reading) const {
  auto& previous = static_cast<LastValue&>(state).value;
  double& x = reading.values.front();
  if (previous) x = alpha_ * x + (1.0 - alpha_) * *previous;
  previous = x;
  return Verdict::kPass;
}

std::unique_ptr<FilterState> RateLimitFilter::newState() const {
  return std::make_unique<LastTime>();
}

Filter::Verdict RateLimitFilter::apply(FilterState& state, Telemetry& reading) const {
  auto& last = static_cast<LastTime&>(state).ts_ns;
  std::int64_t gap = 0;
  // An overflowing gap is huge: the reading passes.
  if (last && !__builtin_sub_overflow(reading.ts_ns, *last, &gap) && gap < min_interval_ns_) {
    return Verdict::kDrop;
  }
  last = reading.ts_ns;
  return Verdict::kPass;
}

}  // namespace sie::gateway
