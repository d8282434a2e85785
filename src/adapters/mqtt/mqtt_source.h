// MqttSource: subscribes to topic templates on a broker and feeds what arrives to the gateway.
//
// Delivery: QoS 1 messages are acknowledged only after the batch they arrived in was accepted
// and made durable (Ingest::sync); if the gateway refuses one or the state cannot be synced, the
// connection is dropped without acknowledging, and the broker delivers the batch again (from the
// refused message on, nothing later in the batch is taken, so order holds). With a persistent
// session (cleanSession: false) that holds across node restarts and crashes too. A message the
// broker delivers again after it was taken is recognised (RedeliveryWindow, kept in state as the
// source's bookmarks) and handed over again with the arrival time it had the first time, marked
// as a redelivery: the gateway skips the readings it already recorded and records any a crash
// lost, whether or not they carry a timestamp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/mqtt/mqtt_client.h"
#include "adapters/mqtt/redelivery_window.h"
#include "adapters/mqtt/topic_template.h"
#include "sie/clock.h"
#include "sie/metrics.h"
#include "sie/source.h"

namespace sie::mqtt {

enum class PayloadFormat { kAuto, kJson, kCbor, kCloudEvents, kNumber };

struct SourceOptions {
  Connection connection;
  std::vector<TopicTemplate> topics;
  int qos = 1;
  std::string sensor;  // sensor id template; "" = the topic
  PayloadFormat format = PayloadFormat::kAuto;
  std::vector<std::string> carry;
  bool receive_time = true;  // stamp readings without a timestamp with their arrival time
  std::string group;         // MQTT shared subscription group ("" = none)
};

// Decodes messages a source's own way (Sparkplug B) instead of handing payloads to the gateway.
class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // On the client thread. An error leaves a QoS 1 message unacknowledged, for redelivery.
  virtual Status handle(std::string_view topic, std::string_view payload, Ingest& sink,
                        Client& client) = 0;
  // On the client thread, around each connection (a Sparkplug host announces itself here):
  // before a connect attempt (set a will), after a (re)connect and the source's subscriptions,
  // and before a clean disconnect (a message id returned is awaited briefly).
  virtual void beforeConnect(Client& /*client*/) {}
  virtual void connected(Client& /*client*/) {}
  virtual std::optional<int> beforeDisconnect(Client& /*client*/) { return std::nullopt; }
  // On the client thread, while connected, at least once a second (deferred work).
  virtual void tick(Client& /*client*/) {}
};

class MqttSource final : public Source {
 public:
  MqttSource(std::string name, SourceOptions options, const Clock& clock = systemClock(),
             std::unique_ptr<MessageHandler> handler = nullptr);
  ~MqttSource() override;

  [[nodiscard]] const std::string& name() const override { return name_; }
  Status start(Ingest& sink) override;
  void stop() override;

 private:
  void subscribeAll();
  void onMessage(const mosquitto_message& message);
  // A message read, kept until its batch is taken.
  struct Held {
    int qos = 0;
    std::string topic;
    std::string payload;
    std::int64_t received_ns = 0;  // its arrival time (a redelivery's: the first arrival's)
    bool redelivery = false;
  };
  void takeBatch();
  Status ingest(const Held& held);
  // Counts the outcome of one message; a refused QoS 1 message is redelivered.
  void finish(int qos, std::string_view topic, const Status& status);
  void afterRead();
  // The window as the previous run left it, and its changes (a persistent session only).
  void restoreWindow();
  void saveWindow();
  [[nodiscard]] std::string slotName(std::size_t slot) const;

  std::string name_;
  SourceOptions options_;
  const Clock& clock_;
  std::unique_ptr<MessageHandler> handler_;
  Ingest* sink_ = nullptr;
  std::unique_ptr<Client> client_;
  // Client thread only.
  Tags tags_;
  bool needs_sync_ = false;
  bool refused_ = false;
  static constexpr std::size_t kMaxHeldBytes = std::size_t{8} << 20;   // then taken in parts
  static constexpr std::size_t kKeptCapacity = std::size_t{64} << 10;  // per reused payload
  std::vector<Held> held_;  // the batch being read; entries are reused
  std::size_t held_count_ = 0;
  std::size_t held_bytes_ = 0;
  RedeliveryWindow window_;
  Counter& messages_;
  Counter& refused_total_;
  Counter& redeliveries_requested_;
  Counter& redeliveries_recognized_;
};

}  // namespace sie::mqtt
