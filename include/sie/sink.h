// Sinks take events off the node's bus and deliver them elsewhere: an MQTT broker now; webhooks
// and Kafka later. What a sink cannot deliver goes to the dead-letter store with the reason.
#pragma once

#include <string>

#include "sie/bus.h"
#include "sie/result.h"
#include "sie/state.h"

namespace sie {

// What a sink works with; everything outlives the sink.
struct SinkContext {
  Bus& bus;
  DeadLetterStore& dead_letters;  // what could not be delivered, with the reason
  AuditLog& audit;                // actuations (Modbus writes, ...) are recorded here
};

class Sink {
 public:
  virtual ~Sink() = default;
  [[nodiscard]] virtual const std::string& name() const = 0;
  // Subscribes to the bus and starts delivering.
  virtual Status start(const SinkContext& context) = 0;
  // Unsubscribes, waits a bounded time for deliveries in flight, dead-letters what is left.
  virtual void stop() = 0;
};

}  // namespace sie
