// The node's internal bus: in-process publish/subscribe by topic, with MQTT-style patterns.
// Decisions and function-emitted events are published here; sinks (log, MQTT, webhook, ...)
// subscribe. Handlers run synchronously on the publisher's thread and must be quick.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "sie/event.h"

namespace sie {

class Bus {
 public:
  using Handler = std::function<void(std::string_view topic, const Event& event)>;
  virtual ~Bus() = default;
  // Returns a subscription id for unsubscribe().
  virtual std::uint64_t subscribe(std::string pattern, Handler handler) = 0;
  virtual void unsubscribe(std::uint64_t id) = 0;
  virtual void publish(std::string_view topic, const Event& event) = 0;
  // Whether publishing on `topic` would reach anyone; lets publishers skip building the event.
  [[nodiscard]] virtual bool hasSubscribers(std::string_view topic) const = 0;
};

}  // namespace sie
