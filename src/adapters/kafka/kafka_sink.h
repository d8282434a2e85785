// KafkaSink: produces bus events (decisions by default) to a Kafka topic with librdkafka. The key
// is the event's subject (the sensor), so one sensor's decisions stay in one partition, in order.
// The producer is idempotent with acks=all; librdkafka retries transient errors itself, and its
// delivery reports are the truth: a message that is finally not delivered (timeout, refused) is
// dead-lettered with librdkafka's reason. On shutdown the sink flushes for `drainTimeout`, then
// purges and dead-letters what is left.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "sie/clock.h"
#include "sie/metrics.h"
#include "sie/sink.h"

struct rd_kafka_s;
struct rd_kafka_message_s;

namespace sie::kafka {

struct KafkaOptions {
  std::string brokers;  // bootstrap.servers
  std::string topic;    // template over {subject}, {type}, {topic} (the bus topic)
  std::vector<std::string> subscribe = {"decisions/#"};
  std::chrono::milliseconds delivery_timeout{30000};  // message.timeout.ms
  std::chrono::milliseconds drain_timeout{5000};
  std::vector<std::pair<std::string, std::string>> properties;  // more librdkafka settings
};

class KafkaSink final : public Sink {
 public:
  KafkaSink(std::string name, KafkaOptions options, const Clock& clock = systemClock());
  ~KafkaSink() override;

  [[nodiscard]] const std::string& name() const override { return name_; }
  // Fails on settings librdkafka refuses, naming the property.
  Status start(const SinkContext& context) override;
  void stop() override;

 private:
  static void onDelivery(rd_kafka_s* rk, const rd_kafka_message_s* message, void* opaque);
  void produce(std::string_view bus_topic, const Event& event);
  void deadLetter(std::string subject, std::string payload, std::string reason);

  std::string name_;
  KafkaOptions options_;
  const Clock& clock_;
  rd_kafka_s* producer_ = nullptr;
  Bus* bus_ = nullptr;
  DeadLetterStore* dead_letters_ = nullptr;
  std::vector<std::uint64_t> subscriptions_;
  std::thread poller_;  // serves delivery reports
  std::atomic<bool> stopping_{false};
  Counter& delivered_;
  Counter& dead_lettered_;
};

}  // namespace sie::kafka
