#include "adapters/mqtt/mqtt_source.h"
#include "core/log.h"

#include <fmt/format.h>
#include <mosquitto.h>

namespace sie::mqtt {
namespace {

std::string_view contentType(PayloadFormat format) {
  switch (format) {
    case PayloadFormat::kJson:
      return "application/json";
    case PayloadFormat::kCbor:
      return "application/cbor";
    case PayloadFormat::kCloudEvents:
      return "application/cloudevents+json";
    case PayloadFormat::kNumber:
      return "text/plain";
    default:
      return "";
  }
}

}  // namespace

MqttSource::MqttSource(std::string name, SourceOptions options, const Clock& clock,
                       std::unique_ptr<MessageHandler> handler)
    : name_(std::move(name)),
      options_(std::move(options)),
      clock_(clock),
      handler_(std::move(handler)),
      messages_(metrics().counter("sie_mqtt_messages_received_total",
                                  "MQTT messages received by a source", {{"source", name_}})),
      refused_total_(metrics().counter("sie_mqtt_messages_refused_total",
                                       "MQTT messages the node could not accept (left "
                                       "unacknowledged for redelivery)",
                                       {{"source", name_}})),
      redeliveries_requested_(metrics().counter(
          "sie_mqtt_redeliveries_requested_total",
          "Connections dropped so that the broker redelivers an unacknowledged batch",
          {{"source", name_}})) {}

MqttSource::~MqttSource() { stop(); }

Status MqttSource::start(Ingest& sink) {
  sink_ = &sink;
  Client::Handlers handlers;
  handlers.connected = [this] {
    subscribeAll();
    if (handler_) handler_->connected(*client_);
  };
  handlers.before_connect = [this] {
    if (handler_) handler_->beforeConnect(*client_);
  };
  handlers.before_disconnect = [this]() -> std::optional<int> {
    return handler_ ? handler_->beforeDisconnect(*client_) : std::nullopt;
  };
  handlers.message = [this](const mosquitto_message& m) { onMessage(m); };
  handlers.after_read = [this] { afterRead(); };
  if (handler_) handlers.tick = [this] { handler_->tick(*client_); };
  client_ = std::make_unique<Client>(name_, Log("source", name_), options_.connection,
                                     std::move(handlers));
  return client_->start();
}

void MqttSource::stop() {
  if (client_) client_->stop();
}

void MqttSource::subscribeAll() {
  for (const auto& topic : options_.topics) {
    const std::string filter =
        options_.group.empty() ? topic.filter() : "$share/" + options_.group + "/" + topic.filter();
    if (auto status = client_->subscribe(filter, options_.qos); !status) {
      Log("source", name_).error("{}", status.error().str());
    }
  }
}

void MqttSource::onMessage(const mosquitto_message& message) {
  messages_.inc();
  const std::string_view topic = message.topic ? message.topic : "";
  const std::string_view payload(static_cast<const char*>(message.payload),
                                 static_cast<std::size_t>(std::max(0, message.payloadlen)));
  if (handler_) {
    finish(message, handler_->handle(topic, payload, *sink_, *client_));
    return;
  }
  tags_.clear();
  for (const auto& pattern : options_.topics) {
    if (pattern.match(topic, tags_)) break;
  }
  std::string expanded;
  std::string_view sensor = topic;
  if (!options_.sensor.empty()) {
    expanded = expandPlaceholders(options_.sensor, [&](std::string_view name) {
      return name == "topic" ? std::optional(topic) : findTag(tags_, name);
    });
    sensor = expanded;
  }
  RawMessage raw{sensor, payload, contentType(options_.format), name_};
  raw.tags = &tags_;
  raw.carry = options_.carry;
  if (options_.receive_time) raw.received_ns = clock_.nowNs();
  finish(message, sink_->ingestRaw(raw));
}

void MqttSource::finish(const mosquitto_message& message, const Status& status) {
  const std::string_view topic = message.topic ? message.topic : "";
  if (message.qos > 0) needs_sync_ = true;
  if (!status) {
    refused_total_.inc();
    refused_ = refused_ || message.qos > 0;
    Log("source", name_).warn("message on '{}' refused: {}", topic, status.error().str());
  }
}

void MqttSource::afterRead() {
  bool redeliver = refused_;
  if (!redeliver && needs_sync_) {
    if (auto synced = sink_->sync(); !synced) {
      Log("source", name_).error("cannot make the batch durable: {}", synced.error().str());
      redeliver = true;
    }
  }
  needs_sync_ = false;
  refused_ = false;
  if (redeliver) {
    redeliveries_requested_.inc();
    client_->dropConnection();
  }
}

}  // namespace sie::mqtt
