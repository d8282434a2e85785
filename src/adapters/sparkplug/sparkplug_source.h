// Source type "sparkplug": a Sparkplug B host application on an MQTT broker. Frames are decoded
// by Sessions; readings go to the gateway, bad frames to the dead-letter store with the reason,
// and an edge node that is out of step is asked to rebirth (NCMD "Node Control/Rebirth", at most
// once per rebirthInterval per node).
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "adapters/mqtt/mqtt_source.h"
#include "adapters/sparkplug/sessions.h"
#include "sie/clock.h"
#include "sie/metrics.h"

namespace sie::sparkplug {

struct HandlerOptions {
  std::string node_sensor = "{group}/{node}/{metric}";
  std::string device_sensor = "{group}/{node}/{device}/{metric}";
  bool rebirth = true;
  std::chrono::milliseconds rebirth_interval{5000};
};

class SparkplugHandler final : public mqtt::MessageHandler {
 public:
  SparkplugHandler(std::string source, HandlerOptions options, const Clock& clock = systemClock());
  Status handle(std::string_view topic, std::string_view payload, Ingest& sink,
                mqtt::Client& client) override;

 private:
  void requestRebirth(const Topic& topic, mqtt::Client& client);

  std::string source_;
  HandlerOptions options_;
  const Clock& clock_;
  Sessions sessions_;
  std::map<std::string, std::int64_t, std::less<>> last_rebirth_ns_;  // by group/node
  Counter& frames_;
  Counter& errors_;
  Counter& rebirths_;
  Counter& skipped_;
};

// The bytes of an NCMD that asks an edge node to publish its births again.
std::string rebirthCommand(std::int64_t now_ms);

}  // namespace sie::sparkplug
