#include "gateway/decoded.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "core/rfc3339.h"

namespace sie::gateway {
namespace {

constexpr std::size_t kMaxSensorIdBytes = 1024;

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// Non-zero when some byte of `word` is below `n` (n <= 0x80), "Bit Twiddling Hacks" style.
constexpr std::uint64_t byteBelow(std::uint64_t word, std::uint64_t n) {
  return (word - kOnes * n) & ~word & kHighBits;
}

// Non-zero when some byte of `word` equals `c`.
constexpr std::uint64_t byteIs(std::uint64_t word, char c) {
  return byteBelow(word ^ (kOnes * static_cast<unsigned char>(c)), 1);
}

// Whether `id` has a '+', '#' or control character. Eight bytes per step: it runs for every
// reading, and a byte loop cost a tenth of the JSON decode.
bool hasForbiddenByte(std::string_view id) {
  std::uint64_t hits = 0;
  std::size_t i = 0;
  for (; i + 8 <= id.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, id.data() + i, sizeof word);
    hits |= byteIs(word, '+') | byteIs(word, '#') | byteIs(word, '\x7F') | byteBelow(word, 0x20);
  }
  for (; i < id.size(); ++i) {
    const auto u = static_cast<unsigned char>(id[i]);
    hits |= static_cast<std::uint64_t>(u == '+' || u == '#' || u == 0x7F || u < 0x20);
  }
  return hits != 0;
}

Status checkSensorId(std::string_view id) {
  if (id.size() > kMaxSensorIdBytes) {
    return payloadError(
        fmt::format("sensor id of {} bytes exceeds {} bytes", id.size(), kMaxSensorIdBytes));
  }
  if (!hasForbiddenByte(id)) return ok();
  if (id.find_first_of("+#") != std::string_view::npos) {
    // Such ids could never be addressed by a route or trigger pattern.
    return payloadError(fmt::format("sensor id '{}' must not contain '+' or '#'", id));
  }
  return payloadError("sensor id must not contain control characters");
}

Status finishTimestamp(const TelemetryFields& fields, const Fallbacks& fallbacks, Telemetry& out) {
  const int stamps = static_cast<int>(fields.ts.has_value()) +
                     static_cast<int>(fields.ts_ms.has_value()) +
                     static_cast<int>(fields.time.has_value());
  if (stamps > 1) return payloadError("set only one of 'ts', 'ts_ms' and 'time'");
  if (fields.ts) {
    out.ts_ns = *fields.ts;
  } else if (fields.ts_ms) {
    auto ns = millisToNanos(*fields.ts_ms);
    if (!ns) return payloadError(fmt::format("'ts_ms' out of range (got {})", *fields.ts_ms));
    out.ts_ns = *ns;
  } else if (fields.time) {
    auto ns = parseRfc3339(*fields.time);
    if (!ns) {
      return payloadError(
          fmt::format("'time' is not an RFC 3339 timestamp (got '{}')", *fields.time));
    }
    out.ts_ns = *ns;
  } else if (fallbacks.time_ns) {
    out.ts_ns = *fallbacks.time_ns;
  } else if (fallbacks.received_ns) {
    out.ts_ns = *fallbacks.received_ns;
  } else {
    return payloadError("ts missing: set 'ts' (epoch ns), 'ts_ms' (epoch ms) or 'time' (RFC 3339)");
  }
  return ok();
}

}  // namespace

bool isCarried(std::span<const std::string> carry, std::string_view key) {
  return std::find(carry.begin(), carry.end(), key) != carry.end();
}

Status finishTelemetry(const TelemetryFields& fields, const Fallbacks& fallbacks, Telemetry& out) {
  std::string_view sensor = fields.sensor.value_or(std::string_view());
  if (sensor.empty()) sensor = fallbacks.subject;
  if (sensor.empty()) sensor = fallbacks.topic;
  if (sensor.empty()) return payloadError("no sensor id: set 'sensor' or publish on a topic");
  SIE_CHECK(checkSensorId(sensor));
  SIE_CHECK(finishTimestamp(fields, fallbacks, out));

  if (fields.has_value && fields.has_values) {
    return payloadError("set 'value' or 'values', not both");
  }
  if (!fields.has_value && !fields.has_values) {
    return payloadError("value missing: set 'value' or 'values'");
  }
  if (out.values.empty()) return payloadError("'values' is empty");
  if (fields.period_ns) {
    if (*fields.period_ns <= 0) {
      return payloadError(fmt::format("'period_ns' must be > 0 (got {})", *fields.period_ns));
    }
    out.sample_period_ns = *fields.period_ns;
  } else if (out.values.size() > 1) {
    return payloadError("'period_ns' is required with several 'values'");
  }
  out.quality = fields.quality.value_or(Quality::kGood);
  out.sensor = Symbol::intern(sensor);
  return ok();
}

Status checkTelemetryShape(const Telemetry& reading) {
  if (reading.sensor.empty()) {
    return payloadError("no sensor id: set 'sensor' or publish on a topic");
  }
  if (reading.values.empty()) return payloadError("reading has no values");
  if (reading.values.size() > 1 && reading.sample_period_ns <= 0) {
    return payloadError("a block of several values needs sample_period_ns > 0");
  }
  return ok();
}

std::optional<Quality> parseQuality(std::string_view text) {
  if (text == "good") return Quality::kGood;
  if (text == "uncertain") return Quality::kUncertain;
  if (text == "bad") return Quality::kBad;
  return std::nullopt;
}

std::optional<double> parseNonFinite(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

std::optional<std::int64_t> millisToNanos(std::int64_t ms) {
  constexpr std::int64_t kLimit = std::numeric_limits<std::int64_t>::max() / 1'000'000;
  if (ms > kLimit || ms < -kLimit) return std::nullopt;
  return ms * 1'000'000;
}

}  // namespace sie::gateway
