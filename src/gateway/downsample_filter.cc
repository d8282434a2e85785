#include "gateway/downsample_filter.h"

#include <algorithm>
#include <string>

namespace sie::gateway {
namespace {

struct Bucket final : FilterState {
  bool open = false;
  std::int64_t start_ns = 0;
  std::size_t count = 0;
  double sum = 0, min = 0, max = 0, last = 0;
  Quality worst = Quality::kGood;
  std::string flag;  // of the first reading with the worst quality

  void reset(std::int64_t start, const Telemetry& reading) {
    open = true;
    start_ns = start;
    count = 0;
    worst = reading.quality;
    flag = reading.flag;
    sum = 0;
    min = max = reading.value();
    add(reading);
  }

  void add(const Telemetry& reading) {
    const double x = reading.value();
    ++count;
    sum += x;
    min = std::min(min, x);
    max = std::max(max, x);
    last = x;
    if (reading.quality > worst) {
      worst = reading.quality;
      flag = reading.flag;
    }
  }
};

// Start of the interval holding `ts` (floor, also for timestamps before 1970).
std::int64_t intervalStart(std::int64_t ts, std::int64_t interval) {
  std::int64_t q = ts / interval;
  if (ts % interval < 0) --q;
  return q * interval;
}

}  // namespace

std::unique_ptr<FilterState> DownsampleFilter::newState() const {
  return std::make_unique<Bucket>();
}

Filter::Verdict DownsampleFilter::apply(FilterState& state, Telemetry& reading) const {
  auto& bucket = static_cast<Bucket&>(state);
  const std::int64_t start = intervalStart(reading.ts_ns, interval_ns_);
  if (!bucket.open) {
    bucket.reset(start, reading);
    return Verdict::kDrop;
  }
  if (start <= bucket.start_ns) {
    bucket.add(reading);
    return Verdict::kDrop;
  }
  double value = bucket.last;
  switch (aggregate_) {
    case FilterSpec::Aggregate::kMean:
      value = bucket.sum / static_cast<double>(bucket.count);
      break;
    case FilterSpec::Aggregate::kMin:
      value = bucket.min;
      break;
    case FilterSpec::Aggregate::kMax:
      value = bucket.max;
      break;
    case FilterSpec::Aggregate::kLast:
      break;
  }
  const std::int64_t closed_start = bucket.start_ns;
  const Quality worst = bucket.worst;
  std::string flag = std::move(bucket.flag);
  bucket.reset(start, reading);  // the current reading opens the next interval
  reading.ts_ns = closed_start;
  reading.values.front() = value;
  reading.quality = worst;
  reading.flag = std::move(flag);
  return Verdict::kPass;
}

}  // namespace sie::gateway
