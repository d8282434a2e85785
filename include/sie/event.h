// Event: a CloudEvents 1.0 envelope plus, when the payload is a sensor reading, its decoded
// telemetry. Events are moved, not copied, along the pipeline.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sie/symbol.h"

namespace sie {

// Context carried with a reading and everything derived from it (decisions, emitted events): the
// levels of an MQTT topic template, and payload fields a source was told to carry (sequence
// numbers, correlation ids), so a consumer can match each decision to its reading.
using Tags = std::vector<std::pair<std::string, std::string>>;

enum class Quality : std::uint8_t { kGood = 0, kUncertain = 1, kBad = 2 };
std::string_view qualityName(Quality q);

// One reading of one sensor. A vibration block carries many samples: values[i] was sampled at
// ts_ns + i * sample_period_ns.
struct Telemetry {
  Symbol sensor;                      // e.g. "rotating/pump1/vibration"
  std::int64_t ts_ns = 0;             // source timestamp, Unix epoch nanoseconds
  std::vector<double> values;         // one or more values
  std::int64_t sample_period_ns = 0;  // > 0 for blocks
  Quality quality = Quality::kGood;
  std::string flag;  // why quality is not good ("out of range", ...), empty otherwise
  Tags tags;

  [[nodiscard]] double value() const { return values.empty() ? 0.0 : values.front(); }
};

// CloudEvents 1.0 context attributes (https://github.com/cloudevents/spec) and data.
struct Event {
  std::string id;
  std::string source;  // URI-reference of the producer, e.g. "sie://sim/plant"
  std::string type;    // e.g. "io.sie.telemetry", "io.sie.decision"
  std::string subject;
  std::int64_t time_ns = 0;
  std::string datacontenttype;  // "application/json", "application/cbor"
  std::string data;             // raw payload bytes
  Tags tags;                    // CloudEvents extension attributes

  std::optional<Telemetry> telemetry;  // set once decoded
  std::int64_t ingest_ns = 0;          // monotonic time the node accepted the event (for latency)
};

inline constexpr std::string_view kTelemetryType = "io.sie.telemetry";
inline constexpr std::string_view kDecisionType = "io.sie.decision";

}  // namespace sie
