// What the payload decoders produce: one Decoded per telemetry object in a payload, plus the
// field checks that JSON and CBOR share, so both formats accept the same keys with the same
// messages.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sie/event.h"
#include "sie/result.h"

namespace sie::gateway {

// CloudEvents 1.0 context attributes of a structured CloudEvent; all empty for plain telemetry.
struct CloudEventContext {
  std::string id;
  std::string source;
  std::string type;
  std::string subject;
  std::string datacontenttype;
};

struct Decoded {
  Telemetry reading;
  std::optional<CloudEventContext> cloud_event;
  // Set when this object (e.g. one element of a batch) could not be decoded; `reading` is then
  // incomplete and `error` says why. Other objects of the same payload are unaffected.
  std::optional<Error> error;
  // With `error`, for the dead letter: a batch element's own bytes (its minified JSON, its
  // CBOR encoding). Empty for a single-object payload, whose bytes are the whole payload.
  std::string raw;
};

// The telemetry keys of one object, as found, before the cross-field checks.
struct TelemetryFields {
  std::optional<std::string_view> sensor;
  std::optional<std::int64_t> ts;        // epoch ns
  std::optional<std::int64_t> ts_ms;     // epoch ms
  std::optional<std::string_view> time;  // RFC 3339
  bool has_value = false;                // "value" seen; the number is in Telemetry::values
  bool has_values = false;               // "values" seen
  std::optional<std::int64_t> period_ns;
  std::optional<Quality> quality;
};

// What the decoders take from the message besides its payload.
struct DecodeContext {
  // NOLINTNEXTLINE(google-explicit-constructor): most callers have only a topic
  DecodeContext(std::string_view topic_ = {}) : topic(topic_) {}
  std::string_view topic;                   // the sensor id of objects that name none
  std::optional<std::int64_t> received_ns;  // the timestamp of objects that carry none
  std::span<const std::string> carry;       // keys copied into Telemetry::tags
};

// Where the sensor id and timestamp come from when the object itself has none.
struct Fallbacks {
  std::string_view subject;                 // CloudEvents subject
  std::string_view topic;                   // the message topic
  std::optional<std::int64_t> time_ns;      // CloudEvents time
  std::optional<std::int64_t> received_ns;  // when the source received the message
};

// Whether the payload key `key` is one of the `carry` keys.
bool isCarried(std::span<const std::string> carry, std::string_view key);

// Completes `out` (whose values the decoder already filled) from `fields`: picks the sensor id
// and timestamp, checks the value/values/period_ns combination.
Status finishTelemetry(const TelemetryFields& fields, const Fallbacks& fallbacks, Telemetry& out);

// Checks a reading handed over already decoded (Ingest::ingest) by in-process code: sensor set,
// values present, a period for blocks.
Status checkTelemetryShape(const Telemetry& reading);

// "good" | "uncertain" | "bad".
std::optional<Quality> parseQuality(std::string_view text);

// The spellings JSON encoders use for non-finite doubles ("NaN", "Infinity", "-Infinity"); they
// decode to the non-finite value, which validation then rejects or flags like any other.
std::optional<double> parseNonFinite(std::string_view text);

// Multiplies epoch milliseconds to nanoseconds; nullopt on overflow.
std::optional<std::int64_t> millisToNanos(std::int64_t ms);

// A decoding error about the payload's content.
inline tl::unexpected<Error> payloadError(std::string message) {
  return fail(Errc::kParse, std::move(message), "payload");
}

}  // namespace sie::gateway
