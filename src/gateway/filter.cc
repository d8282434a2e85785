#include "gateway/filter.h"

#include "gateway/basic_filters.h"
#include "gateway/downsample_filter.h"
#include "gateway/median_filter.h"

namespace sie::gateway {

std::string_view filterTypeName(FilterSpec::Type type) {
  switch (type) {
    case FilterSpec::Type::kDeadband:
      return "deadband";
    case FilterSpec::Type::kMedian:
      return "median";
    case FilterSpec::Type::kEma:
      return "ema";
    case FilterSpec::Type::kRateLimit:
      return "rateLimit";
    case FilterSpec::Type::kDownsample:
      return "downsample";
  }
  return "unknown";
}

std::unique_ptr<Filter> makeFilter(const FilterSpec& spec) {
  switch (spec.type) {
    case FilterSpec::Type::kDeadband:
      return std::make_unique<DeadbandFilter>(spec.delta);
    case FilterSpec::Type::kMedian:
      return std::make_unique<MedianFilter>(spec.window, spec.k);
    case FilterSpec::Type::kEma:
      return std::make_unique<EmaFilter>(spec.alpha);
    case FilterSpec::Type::kRateLimit:
      return std::make_unique<RateLimitFilter>(spec.interval_ns);
    case FilterSpec::Type::kDownsample:
      return std::make_unique<DownsampleFilter>(spec.interval_ns, spec.aggregate);
  }
  return nullptr;
}

}  // namespace sie::gateway
