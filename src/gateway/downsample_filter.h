// Downsampling: readings are grouped into fixed intervals of source time ([k*interval,
// (k+1)*interval)); one aggregated reading (mean, min, max or last), timestamped at the interval
// start, passes when the first reading of a later interval arrives. Every raw reading is
// absorbed (counted as dropped). The newest interval stays open until the sensor's next
// reading: there is no timer.
#pragma once

#include "gateway/filter.h"

namespace sie::gateway {

class DownsampleFilter final : public Filter {
 public:
  DownsampleFilter(std::int64_t interval_ns, FilterSpec::Aggregate aggregate)
      : interval_ns_(interval_ns), aggregate_(aggregate) {}
  [[nodiscard]] std::string_view name() const override { return "downsample"; }
  [[nodiscard]] std::unique_ptr<FilterState> newState() const override;
  // Drop while the interval stays open; when it closes, `reading` becomes the aggregate of the
  // closed interval (its quality the worst seen, with that reading's flag) and passes.
  Verdict apply(FilterState& state, Telemetry& reading) const override;

 private:
  std::int64_t interval_ns_;
  FilterSpec::Aggregate aggregate_;
};

}  // namespace sie::gateway
