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
      window_(static_cast<std::size_t>(options_.connection.max_inflight)),
      messages_(metrics().counter("sie_mqtt_messages_received_total",
                                  "MQTT messages received by a source", {{"source", name_}})),
      refused_total_(metrics().counter("sie_mqtt_messages_refused_total",
                                       "MQTT messages the node could not accept (left "
                                       "unacknowledged for redelivery)",
                                       {{"source", name_}})),
      redeliveries_requested_(metrics().counter(
          "sie_mqtt_redeliveries_requested_total",
          "Connections dropped so that the broker redelivers an unacknowledged batch",
          {{"source", name_}})),
      redeliveries_recognized_(metrics().counter(
          "sie_mqtt_redeliveries_recognized_total",
          "Messages the broker delivered again after the node took them (acknowledged; readings "
          "already recorded are not recorded again)",
          {{"source", name_}})) {}

MqttSource::~MqttSource() { stop(); }

Status MqttSource::start(Ingest& sink) {
  sink_ = &sink;
  if (!handler_) restoreWindow();
  Client::Handlers handlers;
  handlers.connected = [this] {
    window_.reconnected();
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
  if (!client_) return;
  client_->stop();
  // Every message remembered was taken on this connection, and every acknowledgement reached the
  // broker before the clean disconnect: nothing comes again, so after a restart the same bytes
  // arriving first are a new message, not a redelivery.
  if (client_->leftCleanly() && window_.allFromThisConnection() && window_.size() > 0) {
    window_.clear();
    saveWindow();
  }
}

void MqttSource::restoreWindow() {
  if (options_.connection.clean_session) return;  // no session outlives the node's run
  std::vector<std::string> slots(window_.slots());
  for (std::size_t slot = 0; slot < slots.size(); ++slot) {
    auto saved = sink_->bookmark(slotName(slot));
    if (!saved) {
      Log("source", name_)
          .warn("cannot read the redelivery bookmark ({}): starting without it",
                saved.error().str());
      return;
    }
    if (*saved) slots[slot] = std::move(**saved);
  }
  if (auto restored = window_.restore(slots); !restored) {
    Log("source", name_).warn("{}: starting without it", restored.error().str());
  }
}

std::string MqttSource::slotName(std::size_t slot) const {
  return fmt::format("{}/redelivery/{}", name_, slot);
}

void MqttSource::saveWindow() {
  if (options_.connection.clean_session) return;  // nothing is redelivered after a restart
  for (const auto& [slot, value] : window_.save()) {
    if (auto saved = sink_->setBookmark(slotName(slot), value); !saved) {
      Log("source", name_).error("cannot keep the redelivery bookmark: {}", saved.error().str());
    }
  }
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
    finish(message.qos, topic, handler_->handle(topic, payload, *sink_, *client_));
    return;
  }
  // Held until the whole batch is read (libmosquitto frees the message on return): see takeBatch.
  if (held_count_ == held_.size()) held_.emplace_back();
  Held& held = held_[held_count_++];
  held.qos = message.qos;
  held.topic.assign(topic);
  held.payload.assign(payload);
  held.received_ns = options_.receive_time ? clock_.nowNs() : 0;
  // Large messages are taken in parts, so a batch of them cannot pile up in memory; each part
  // saves the bookmark before its readings, and the batch is still acknowledged once, durable.
  held_bytes_ += topic.size() + payload.size();
  if (held_bytes_ >= kMaxHeldBytes) takeBatch();
}

void MqttSource::takeBatch() {
  // First what each QoS 1 message is: a redelivery keeps the arrival time it was stamped with the
  // first time; a new one is remembered. The bookmark is saved before any reading of the batch
  // reaches the gateway, so the readings are never durable without it; a remembered message whose
  // readings were lost in a crash comes again and is recorded then, at its first arrival time.
  for (std::size_t i = 0; i < held_count_; ++i) {
    Held& held = held_[i];
    held.redelivery = false;
    if (held.qos == 0) continue;
    const std::uint64_t digest = RedeliveryWindow::digest(held.topic, held.payload);
    if (auto first = window_.redelivered(digest)) {
      held.redelivery = true;
      held.received_ns = *first;
    } else {
      window_.accepted(digest, held.received_ns);
    }
  }
  saveWindow();
  for (std::size_t i = 0; i < held_count_; ++i) {
    const Held& held = held_[i];
    if (refused_ && held.qos > 0) {  // comes again after the refused one, in order
      refused_total_.inc();
      continue;
    }
    if (held.redelivery) redeliveries_recognized_.inc();
    finish(held.qos, held.topic, ingest(held));
  }
  for (std::size_t i = 0; i < held_count_; ++i) {  // a burst of large messages is not kept
    if (held_[i].payload.capacity() > kKeptCapacity) std::string().swap(held_[i].payload);
  }
  held_count_ = 0;
  held_bytes_ = 0;
}

Status MqttSource::ingest(const Held& held) {
  const std::string_view topic = held.topic;
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
  RawMessage raw{sensor, held.payload, contentType(options_.format), name_};
  raw.tags = &tags_;
  raw.carry = options_.carry;
  if (options_.receive_time) raw.received_ns = held.received_ns;
  raw.redelivered = held.redelivery;
  return sink_->ingestRaw(raw);
}

void MqttSource::finish(int qos, std::string_view topic, const Status& status) {
  if (qos > 0) needs_sync_ = true;
  if (!status) {
    refused_total_.inc();
    refused_ = refused_ || qos > 0;
    Log("source", name_).warn("message on '{}' refused: {}", topic, status.error().str());
  }
}

void MqttSource::afterRead() {
  if (!handler_) takeBatch();
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
