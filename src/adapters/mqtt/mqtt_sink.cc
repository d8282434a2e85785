#include "adapters/mqtt/mqtt_sink.h"

#include <fmt/format.h>

#include "adapters/mqtt/topic_template.h"
#include "core/log.h"

namespace sie::mqtt {

MqttSink::MqttSink(std::string name, SinkOptions options, const Clock& clock)
    : name_(std::move(name)),
      options_(std::move(options)),
      clock_(clock),
      published_(metrics().counter("sie_mqtt_messages_published_total",
                                   "MQTT messages handed to the broker connection by a sink",
                                   {{"sink", name_}})),
      acknowledged_(metrics().counter("sie_mqtt_messages_acknowledged_total",
                                      "QoS 1 messages the broker acknowledged", {{"sink", name_}})),
      dead_lettered_(metrics().counter("sie_mqtt_messages_dead_lettered_total",
                                       "Events a sink could not deliver (in the dead-letter store)",
                                       {{"sink", name_}})) {}

MqttSink::~MqttSink() { stop(); }

Status MqttSink::start(const SinkContext& context) {
  Bus& bus = context.bus;
  bus_ = &bus;
  dead_letters_ = &context.dead_letters;
  Client::Handlers handlers;
  handlers.published = [this](int mid) { acknowledged(mid); };
  client_ =
      std::make_unique<Client>(name_, Log("sink", name_), options_.connection, std::move(handlers));
  SIE_CHECK(client_->start());
  for (const auto& pattern : options_.subscribe) {
    subscriptions_.push_back(bus.subscribe(
        pattern, [this](std::string_view topic, const Event& event) { deliver(topic, event); }));
  }
  return ok();
}

void MqttSink::stop() {
  if (!bus_) return;
  for (const auto id : subscriptions_) bus_->unsubscribe(id);
  subscriptions_.clear();
  std::map<int, Pending> left;
  {
    std::unique_lock lock(mu_);
    drained_.wait_for(lock, options_.drain_timeout, [&] { return pending_.empty(); });
    left.swap(pending_);
  }
  if (client_) client_->stop();
  for (auto& [mid, message] : left) {
    deadLetter(message.topic, std::move(message.payload),
               fmt::format("the broker did not acknowledge the message within {} ms of shutdown",
                           options_.drain_timeout.count()));
  }
  bus_ = nullptr;
}

void MqttSink::deliver(std::string_view bus_topic, const Event& event) {
  const Tags& tags = event.telemetry ? event.telemetry->tags : event.tags;
  std::string time_ns;
  const auto lookup = [&](std::string_view name) -> std::optional<std::string_view> {
    if (name == "topic") return bus_topic;
    if (name == "data") return std::string_view(event.data);
    if (name == "subject") return std::string_view(event.subject);
    if (name == "id") return std::string_view(event.id);
    if (name == "type") return std::string_view(event.type);
    if (name == "source") return std::string_view(event.source);
    if (name == "time_ns") {
      time_ns = std::to_string(event.time_ns);
      return std::string_view(time_ns);
    }
    return findTag(tags, name);
  };
  std::string topic = expandPlaceholders(options_.topic, lookup);
  std::string payload = expandPlaceholders(options_.payload, lookup);
  if (options_.qos > 0) {
    std::lock_guard lock(mu_);
    if (pending_.size() >= options_.max_queued) {
      deadLetter(
          std::move(topic), std::move(payload),
          fmt::format("{} messages already wait for the broker (maxQueued); is it reachable?",
                      pending_.size()));
      return;
    }
    // Under the lock, so the acknowledgement cannot be handled before the message is recorded.
    auto mid = client_->publish(topic, payload, options_.qos, options_.retain);
    if (mid) {
      published_.inc();
      pending_.emplace(*mid, Pending{std::move(topic), std::move(payload)});
      return;
    }
    deadLetter(std::move(topic), std::move(payload), mid.error().message);
    return;
  }
  if (auto mid = client_->publish(topic, payload, 0, options_.retain); !mid) {
    deadLetter(std::move(topic), std::move(payload), mid.error().message);
    return;
  }
  published_.inc();
}

void MqttSink::acknowledged(int mid) {
  std::lock_guard lock(mu_);
  if (pending_.erase(mid) > 0) {
    acknowledged_.inc();
    if (pending_.empty()) drained_.notify_all();
  }
}

void MqttSink::deadLetter(std::string subject, std::string payload, std::string reason) {
  dead_lettered_.inc();
  DeadLetter letter;
  letter.ts_ns = clock_.nowNs();
  letter.origin = "sink:" + name_;
  letter.reason = std::move(reason);
  letter.subject = std::move(subject);
  letter.payload = std::move(payload);
  if (auto stored = dead_letters_->put(std::move(letter)); !stored) {
    Log("sink", name_).error("event lost, the dead-letter store failed: {}", stored.error().str());
  }
}

}  // namespace sie::mqtt
