// Sources bring readings into the node: the plant simulator now; MQTT, Sparkplug B, Modbus and
// HTTP later. A source hands raw payloads (decoded by the gateway) or already decoded telemetry to
// an Ingest, which is the gateway.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sie/config.h"
#include "sie/event.h"
#include "sie/result.h"

namespace sie {

struct RawMessage {
  std::string_view topic;  // MQTT topic, HTTP path, ... (the default sensor id)
  std::string_view payload;
  std::string_view content_type;       // "application/json", "application/cbor"
  std::string_view source;             // the source's name
  const Tags* tags = nullptr;          // added to every reading of the message (topic levels, ...)
  std::span<const std::string> carry;  // payload keys copied into the readings' tags
  std::optional<std::int64_t> received_ns;  // the timestamp of readings that carry none
  // A message the source took before (a broker's redelivery, with its first received_ns):
  // readings already recorded are skipped, not dead-lettered as duplicates.
  bool redelivered = false;
};

// What a source feeds. Implementations are thread-safe. An OK status means the reading was
// accepted (recorded, or dead-lettered with a reason); an error means it was refused and the
// source still owns it (e.g. a broker message stays unacknowledged).
class Ingest {
 public:
  virtual ~Ingest() = default;
  virtual Status ingestRaw(const RawMessage& message) = 0;
  virtual Status ingest(Telemetry reading, std::string_view source) = 0;
  // A message the source decoded itself and found unusable: dead-lettered with `reason`.
  virtual Status reject(const RawMessage& message, std::string_view reason) = 0;
  // Blocks until every reading accepted before the call is durable (survives a crash of the
  // node), so a source can acknowledge a batch of messages with one call.
  virtual Status sync() = 0;
  // A source's bookmarks in state (e.g. which messages it took last), kept across restarts;
  // `name` is the source's name, or its name and a part ("field/redelivery/3"). A bookmark set
  // before readings are handed over is durable whenever they are (with them or earlier); sync()
  // makes it durable.
  virtual Result<std::optional<std::string>> bookmark(std::string_view name) = 0;
  virtual Status setBookmark(std::string_view name, std::string_view value) = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  [[nodiscard]] virtual const std::string& name() const = 0;
  // Starts producing into `sink` (which outlives the source) on the source's own thread(s).
  virtual Status start(Ingest& sink) = 0;
  // Stops producing; returns once no thread of the source calls the sink any more.
  virtual void stop() = 0;
};

}  // namespace sie
