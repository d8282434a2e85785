// Filters: per-route chains that smooth, thin or aggregate a sensor's readings after they are
// recorded and before they are routed (decode -> validate -> record raw -> filters -> route).
// Readings a filter drops are therefore still in the time-series store (raw history is kept);
// they are only not routed to functions.
//
// A filter is shared by every sensor of its route; what it remembers per sensor lives in a
// FilterState made by newState(). Filters see single finite values only: blocks (several
// values) and flagged non-finite readings pass every filter unchanged.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "sie/event.h"

namespace sie::gateway {

struct FilterSpec {
  enum class Type { kDeadband, kMedian, kEma, kRateLimit, kDownsample };
  enum class Aggregate { kMean, kMin, kMax, kLast };

  Type type = Type::kDeadband;
  double delta = 0;              // deadband: pass when |x - last passed| >= delta
  std::size_t window = 5;        // median: readings in the window (>= 3)
  double k = 3;                  // median: spike threshold in robust sigmas (1.4826 * MAD)
  double alpha = 0.5;            // ema: weight of the new reading, (0, 1]
  std::int64_t interval_ns = 0;  // rateLimit: minInterval; downsample: interval
  Aggregate aggregate = Aggregate::kMean;  // downsample
};

// "deadband", "median", "ema", "rateLimit", "downsample" (config spelling and metric label).
std::string_view filterTypeName(FilterSpec::Type type);

// What a filter remembers about one sensor.
class FilterState {
 public:
  virtual ~FilterState() = default;
};

class Filter {
 public:
  enum class Verdict { kPass, kDrop };

  virtual ~Filter() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  [[nodiscard]] virtual std::unique_ptr<FilterState> newState() const = 0;
  // `state` was made by this filter's newState(); `reading` has one finite value and may be
  // rewritten (value, ts, quality, flag). Calls for one sensor are serialized by the caller.
  virtual Verdict apply(FilterState& state, Telemetry& reading) const = 0;
};

std::unique_ptr<Filter> makeFilter(const FilterSpec& spec);

}  // namespace sie::gateway
