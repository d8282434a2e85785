// The small stateful filters: deadband, exponential moving average, rate limit.
#pragma once

#include "gateway/filter.h"

namespace sie::gateway {

// Drops a reading unless it differs from the last passed one by at least `delta`.
class DeadbandFilter final : public Filter {
 public:
  explicit DeadbandFilter(double delta) : delta_(delta) {}
  [[nodiscard]] std::string_view name() const override { return "deadband"; }
  [[nodiscard]] std::unique_ptr<FilterState> newState() const override;
  Verdict apply(FilterState& state, Telemetry& reading) const override;

 private:
  double delta_;
};

// Replaces x by alpha * x + (1 - alpha) * previous output; the first reading passes as is.
class EmaFilter final : public Filter {
 public:
  explicit EmaFilter(double alpha) : alpha_(alpha) {}
  [[nodiscard]] std::string_view name() const override { return "ema"; }
  [[nodiscard]] std::unique_ptr<FilterState> newState() const override;
  Verdict apply(FilterState& state, Telemetry& reading) const override;

 private:
  double alpha_;
};

// Drops readings closer than `min_interval_ns` (by source timestamp) to the last passed one.
class RateLimitFilter final : public Filter {
 public:
  explicit RateLimitFilter(std::int64_t min_interval_ns) : min_interval_ns_(min_interval_ns) {}
  [[nodiscard]] std::string_view name() const override { return "rateLimit"; }
  [[nodiscard]] std::unique_ptr<FilterState> newState() const override;
  Verdict apply(FilterState& state, Telemetry& reading) const override;

 private:
  std::int64_t min_interval_ns_;
};

}  // namespace sie::gateway
