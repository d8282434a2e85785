// One MQTT connection driven by its own thread, around libmosquitto.
//
// The thread polls the socket itself (not mosquitto_loop) so that it can read a batch of
// messages, let the owner make them durable (after_read), and only then write the QoS 1
// acknowledgements that libmosquitto queued while reading: a crash before that point leaves the
// messages unacknowledged, and the broker delivers them again. It reconnects with exponential
// backoff and full jitter, so a fleet of nodes does not hammer a restarted broker in step.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "adapters/mqtt/mqtt_connection.h"
#include "core/backoff.h"
#include "core/log.h"
#include "sie/metrics.h"
#include "sie/result.h"

struct mosquitto;
struct mosquitto_message;

namespace sie::mqtt {

class Client {
 public:
  // Every handler runs on the client's thread.
  struct Handlers {
    std::function<void()> connected;  // each (re)connect: subscribe here
    std::function<void(const mosquitto_message&)> message;
    // After a batch of messages was read and before their acknowledgements are sent.
    std::function<void()> after_read;
    std::function<void(int mid)> published;  // a QoS 1 publish was acknowledged (QoS 0: sent)
    // Before each connect attempt: the moment to set a will (setWill) for that connection.
    std::function<void()> before_connect;
    // Before a clean disconnect (stop): a last message may be published; the id returned is
    // awaited, up to a second, before the client disconnects.
    std::function<std::optional<int>()> before_disconnect;
    // While connected, after each turn of the client's loop: at least once a second.
    std::function<void()> tick;
  };

  // `log` is its owner's ([source:NAME] or [sink:NAME]).
  Client(std::string name, Log log, Connection connection, Handlers handlers);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  // Applies the settings (TLS files are loaded here, so bad ones fail now) and starts the thread;
  // the first connection is attempted there, so an absent broker is not an error.
  Status start();
  // Disconnects cleanly and joins the thread.
  void stop();

  // Thread-safe. A QoS 1 message published while disconnected is kept by libmosquitto and sent
  // after the reconnect. Returns the message id.
  Result<int> publish(const std::string& topic, std::string_view payload, int qos, bool retain);
  // Client thread only (the connected handler).
  Status subscribe(const std::string& filter, int qos);
  // Client thread only (before_connect): what the broker publishes if this connection is lost
  // without a clean disconnect.
  Status setWill(const std::string& topic, std::string_view payload, int qos, bool retain);
  // Client thread only: drops the connection without sending the queued acknowledgements, so
  // the broker redelivers the batch (used when the batch could not be made durable).
  void dropConnection();

  [[nodiscard]] bool connected() const { return connected_.load(std::memory_order_acquire); }
  // After stop(): whether the client was connected and sent every acknowledgement and a
  // DISCONNECT, so the broker has nothing left to deliver again.
  [[nodiscard]] bool leftCleanly() const { return left_cleanly_; }

 private:
  static void onConnect(mosquitto* m, void* self, int rc);
  static void onDisconnect(mosquitto* m, void* self, int rc);
  static void onMessage(mosquitto* m, void* self, const mosquitto_message* message);
  static void onPublish(mosquitto* m, void* self, int mid);

  void run();
  bool connectOnce();
  int readBatch();
  void lost(int rc);
  void waitBackoff();
  void wake() const;
  // After stop: the before_disconnect message, published and (briefly) awaited.
  void farewell();

  std::string name_;
  Log log_;
  Connection connection_;
  Handlers handlers_;
  mosquitto* mosq_ = nullptr;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  bool started_ = false;
  bool left_cleanly_ = false;    // written by the client's thread before stop() joins it
  bool drop_requested_ = false;  // dropConnection() since the last connect
  Backoff backoff_;
  std::size_t batch_messages_ = 0;
  int awaited_mid_ = 0;  // farewell(): the message whose acknowledgement ends the wait
  bool awaited_done_ = false;
  Counter& connects_;
  Counter& connection_losses_;
  Gauge& up_;
};

}  // namespace sie::mqtt
