// Source type "sparkplug": a Sparkplug B host application on an MQTT broker. Frames are decoded
// by Sessions; readings go to the gateway, bad frames to the dead-letter store with the reason,
// and an edge node that is out of step is asked to rebirth (NCMD "Node Control/Rebirth", at most
// once per rebirthInterval per node).
//
// With a host id the source is a Sparkplug 3.0 Primary Host Application: each connection carries
// a will on spBv1.0/STATE/<host id> ({"online":false,"timestamp":T}, QoS 1, retained), then the
// birth {"online":true,"timestamp":T} is published (QoS 1, retained), and a clean stop publishes
// the death with the same T; edge nodes that name this host publish only while it is online. A
// STATE message that says this host is offline while it is connected is answered with its birth,
// at most once a second (a flood of deaths is answered by one birth, sent once the second has
// passed, so the host's birth is the last word without amplifying the flood); a STATE payload
// larger than a STATE message can be is refused unparsed. Other hosts' STATE messages are not data
// and are ignored.
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
  std::string host_id;  // "": not a primary host (no STATE messages)
};

class SparkplugHandler final : public mqtt::MessageHandler {
 public:
  SparkplugHandler(std::string source, HandlerOptions options, const Clock& clock = systemClock());
  Status handle(std::string_view topic, std::string_view payload, Ingest& sink,
                mqtt::Client& client) override;
  void beforeConnect(mqtt::Client& client) override;
  void connected(mqtt::Client& client) override;
  std::optional<int> beforeDisconnect(mqtt::Client& client) override;
  void tick(mqtt::Client& client) override;

  // The longest STATE payload read: {"online":false,"timestamp":<13 digits>} with room to spare.
  static constexpr std::size_t kMaxStatePayload = 256;
  // The shortest time between two births that answer deaths on the host's topic.
  static constexpr std::chrono::seconds kStateAnswerGap{1};

 private:
  void requestRebirth(const Topic& topic, mqtt::Client& client);
  // A STATE message on this host's topic: answered with the birth when it says offline.
  void hostState(std::string_view payload, mqtt::Client& client);
  Result<int> publishState(mqtt::Client& client, bool online);
  // Publishes the birth that answers a death now, or once kStateAnswerGap has passed.
  void answerDeath(mqtt::Client& client);

  std::string source_;
  HandlerOptions options_;
  const Clock& clock_;
  Sessions sessions_;
  std::map<std::string, std::int64_t, std::less<>> last_rebirth_ns_;  // by group/node
  std::string state_topic_;       // spBv1.0/STATE/<host id>, "" without one
  std::int64_t state_ts_ms_ = 0;  // T of this connection's will, birth and death
  bool leaving_ = false;          // its death is out: its own echo is not answered
  bool answer_owed_ = false;      // a death came within kStateAnswerGap of the last answer
  std::int64_t last_answer_ns_ = 0;
  Counter& frames_;
  Counter& errors_;
  Counter& rebirths_;
  Counter& skipped_;
};

// The bytes of an NCMD that asks an edge node to publish its births again.
std::string rebirthCommand(std::int64_t now_ms);

// A Sparkplug 3.0 STATE payload: {"online":true,"timestamp":1668114759262}.
std::string statePayload(bool online, std::int64_t timestamp_ms);

}  // namespace sie::sparkplug
