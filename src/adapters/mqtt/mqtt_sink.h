// MqttSink: publishes bus events (decisions by default) to a broker.
//
// The output topic and payload are templates over the event: {topic} (the bus topic), {subject},
// {id}, {type}, {source}, {time_ns}, {data} (the event's JSON), and every tag the reading carried
// ({line}, {asset}, {seq}, ...). QoS 1 messages are kept until the broker acknowledges them,
// across reconnects, up to maxQueued; beyond that, and for QoS 0 while disconnected, the event is
// dead-lettered with the reason, never dropped silently.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/mqtt/mqtt_client.h"
#include "sie/clock.h"
#include "sie/metrics.h"
#include "sie/sink.h"

namespace sie::mqtt {

struct SinkOptions {
  Connection connection;
  std::vector<std::string> subscribe = {"decisions/#"};  // bus topic patterns
  std::string topic = "sie/{topic}";
  std::string payload = "{data}";
  int qos = 1;
  bool retain = false;
  std::size_t max_queued = 10000;
  std::chrono::milliseconds drain_timeout{5000};
};

class MqttSink final : public Sink {
 public:
  MqttSink(std::string name, SinkOptions options, const Clock& clock = systemClock());
  ~MqttSink() override;

  [[nodiscard]] const std::string& name() const override { return name_; }
  Status start(const SinkContext& context) override;
  void stop() override;

 private:
  struct Pending {
    std::string topic;
    std::string payload;
  };
  void deliver(std::string_view bus_topic, const Event& event);
  void acknowledged(int mid);
  void deadLetter(std::string subject, std::string payload, std::string reason);

  std::string name_;
  SinkOptions options_;
  const Clock& clock_;
  Bus* bus_ = nullptr;
  DeadLetterStore* dead_letters_ = nullptr;
  std::vector<std::uint64_t> subscriptions_;
  std::unique_ptr<Client> client_;
  std::mutex mu_;
  std::condition_variable drained_;
  std::map<int, Pending> pending_;  // QoS 1 messages not yet acknowledged, by message id
  Counter& published_;
  Counter& acknowledged_;
  Counter& dead_lettered_;
};

}  // namespace sie::mqtt
