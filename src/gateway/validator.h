// Validation: value and time checks per route, and the per-sensor ordering check.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "sie/clock.h"
#include "sie/event.h"

namespace sie::gateway {

enum class OnInvalid {
  kReject,  // dead-letter the reading; it goes no further
  kFlag,    // lower its quality, set Telemetry::flag to the reason, and carry on
};

// A route's `validate:` block. NaN and infinities are invalid whatever the block says.
struct ValidationSpec {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  std::optional<std::int64_t> max_age_ns;     // stale when the newest sample < now - max_age
  std::optional<std::int64_t> max_future_ns;  // early when the newest sample > now + max_future
  OnInvalid on_invalid = OnInvalid::kReject;
};

// Why a reading did not go through; the short names label sie_gateway_rejected_total.
enum class RejectCode : std::uint8_t {
  kParse,
  kOversize,
  kNan,
  kRange,
  kStale,
  kFuture,
  kDuplicate,
  kOutOfOrder,
  kUnknownSensor,
  kStore,       // the time-series store refused the append
  kDownstream,  // the downstream refused the event (overload)
};
inline constexpr std::size_t kRejectCodeCount = 11;
std::string_view rejectCodeName(RejectCode code);

struct Finding {
  RejectCode code;
  std::string reason;  // "value 300 out of range [180, 280]"
};

class Validator {
 public:
  // `clock` must outlive the validator.
  Validator(ValidationSpec spec, const Clock& clock) : spec_(spec), clock_(&clock) {}

  // Finite values, range, staleness, future; the first failing check is reported. Reads the
  // wall clock only when a time check is configured.
  [[nodiscard]] std::optional<Finding> check(const Telemetry& reading) const;
  [[nodiscard]] const ValidationSpec& spec() const { return spec_; }

 private:
  ValidationSpec spec_;
  const Clock* clock_;
};

// Timestamp of the reading's newest sample (a block's last one), saturating on overflow.
std::int64_t newestSampleNs(const Telemetry& reading);

// Duplicate and out-of-order readings are always rejected: `last_ns` is the newest sample
// timestamp accepted for the sensor so far, and the reading's first sample must come after it.
std::optional<Finding> checkOrder(const Telemetry& reading, std::optional<std::int64_t> last_ns);

// Applies a flag: quality drops to kBad for nan/range, to at least kUncertain for stale/future;
// Telemetry::flag becomes the reason.
void flagReading(Telemetry& reading, Finding finding);

}  // namespace sie::gateway
