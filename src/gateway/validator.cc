#include "gateway/validator.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace sie::gateway {
namespace {

std::string seconds(std::int64_t ns) { return fmt::format("{}s", static_cast<double>(ns) / 1e9); }

// "value" for a single reading, "values[3]" inside a block.
std::string valueName(const Telemetry& reading, std::size_t i) {
  return reading.values.size() == 1 ? std::string("value") : fmt::format("values[{}]", i);
}

}  // namespace

std::string_view rejectCodeName(RejectCode code) {
  switch (code) {
    case RejectCode::kParse:
      return "parse";
    case RejectCode::kOversize:
      return "oversize";
    case RejectCode::kNan:
      return "nan";
    case RejectCode::kRange:
      return "range";
    case RejectCode::kStale:
      return "stale";
    case RejectCode::kFuture:
      return "future";
    case RejectCode::kDuplicate:
      return "duplicate";
    case RejectCode::kOutOfOrder:
      return "out_of_order";
    case RejectCode::kUnknownSensor:
      return "unknown_sensor";
    case RejectCode::kStore:
      return "store";
    case RejectCode::kDownstream:
      return "downstream";
  }
  return "unknown";
}

std::optional<Finding> Validator::check(const Telemetry& reading) const {
  // A reading its source already marked bad, with the reason (a null, a device exception, a
  // stale mark), carries no measurement to check: its value may be NaN.
  const bool measured = reading.quality != Quality::kBad || reading.flag.empty();
  for (std::size_t i = 0; measured && i < reading.values.size(); ++i) {
    const double x = reading.values[i];
    if (!std::isfinite(x)) {
      return Finding{RejectCode::kNan,
                     fmt::format("{} is not finite ({})", valueName(reading, i), x)};
    }
    if (x < spec_.min || x > spec_.max) {
      return Finding{RejectCode::kRange,
                     fmt::format("{} {} out of range [{}, {}]", valueName(reading, i), x, spec_.min,
                                 spec_.max)};
    }
  }
  if (!spec_.max_age_ns && !spec_.max_future_ns) return std::nullopt;
  const std::int64_t now = clock_->nowNs();
  const std::int64_t newest = newestSampleNs(reading);
  // Differences in double: timestamps come from outside and may be anywhere in int64.
  const double age = static_cast<double>(now) - static_cast<double>(newest);
  if (spec_.max_age_ns && age > static_cast<double>(*spec_.max_age_ns)) {
    return Finding{RejectCode::kStale, fmt::format("stale timestamp: {}s old (maxAge {})",
                                                   age / 1e9, seconds(*spec_.max_age_ns))};
  }
  if (spec_.max_future_ns && -age > static_cast<double>(*spec_.max_future_ns)) {
    return Finding{RejectCode::kFuture, fmt::format("timestamp {}s in the future (maxFuture {})",
                                                    -age / 1e9, seconds(*spec_.max_future_ns))};
  }
  return std::nullopt;
}

std::int64_t newestSampleNs(const Telemetry& reading) {
  if (reading.values.size() <= 1) return reading.ts_ns;
  std::int64_t span = 0;
  std::int64_t newest = 0;
  if (__builtin_mul_overflow(static_cast<std::int64_t>(reading.values.size() - 1),
                             reading.sample_period_ns, &span) ||
      __builtin_add_overflow(reading.ts_ns, span, &newest)) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return newest;
}

std::optional<Finding> checkOrder(const Telemetry& reading, std::optional<std::int64_t> last_ns) {
  if (!last_ns || reading.ts_ns > *last_ns) return std::nullopt;
  if (reading.ts_ns == *last_ns) return Finding{RejectCode::kDuplicate, "duplicate timestamp"};
  return Finding{RejectCode::kOutOfOrder,
                 fmt::format("out-of-order timestamp ({} < last {})", reading.ts_ns, *last_ns)};
}

void flagReading(Telemetry& reading, Finding finding) {
  const bool bad = finding.code == RejectCode::kNan || finding.code == RejectCode::kRange;
  reading.quality = std::max(reading.quality, bad ? Quality::kBad : Quality::kUncertain);
  reading.flag = std::move(finding.reason);
}

}  // namespace sie::gateway
