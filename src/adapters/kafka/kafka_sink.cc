#include "adapters/kafka/kafka_sink.h"

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>

#include "core/log.h"
#include "core/placeholders.h"

namespace sie::kafka {
namespace {

std::string expand(std::string_view text, std::string_view bus_topic, const Event& event) {
  return expandPlaceholders(text, [&](std::string_view name) -> std::optional<std::string_view> {
    if (name == "subject") return std::string_view(event.subject);
    if (name == "type") return std::string_view(event.type);
    if (name == "topic") return bus_topic;
    return std::nullopt;
  });
}

}  // namespace

KafkaSink::KafkaSink(std::string name, KafkaOptions options, const Clock& clock)
    : name_(std::move(name)),
      options_(std::move(options)),
      clock_(clock),
      delivered_(metrics().counter("sie_kafka_delivered_total",
                                   "Messages Kafka acknowledged (delivery reports)",
                                   {{"sink", name_}})),
      dead_lettered_(metrics().counter("sie_kafka_dead_lettered_total",
                                       "Messages not delivered (dead-lettered with the reason)",
                                       {{"sink", name_}})) {}

KafkaSink::~KafkaSink() {
  stop();
  if (producer_) rd_kafka_destroy(producer_);
}

Status KafkaSink::start(const SinkContext& context) {
  bus_ = &context.bus;
  dead_letters_ = &context.dead_letters;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", options_.brokers},
      {"client.id", "sie-" + name_},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"message.timeout.ms", std::to_string(options_.delivery_timeout.count())},
      {"linger.ms", "5"},
  };
  settings.insert(settings.end(), options_.properties.begin(), options_.properties.end());
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return fail(Errc::kInvalidArgument,
                  fmt::format("kafka {}: {}={}: {}", name_, key, value, error));
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaSink::onDelivery);
  rd_kafka_conf_set_opaque(conf, this);
  producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);  // owns conf on success
  if (!producer_) {
    rd_kafka_conf_destroy(conf);
    return fail(Errc::kInvalidArgument, fmt::format("kafka {}: {}", name_, error));
  }
  poller_ = std::thread([this] {
    while (!stopping_) rd_kafka_poll(producer_, 100);
  });
  for (const auto& pattern : options_.subscribe) {
    subscriptions_.push_back(bus_->subscribe(
        pattern, [this](std::string_view topic, const Event& event) { produce(topic, event); }));
  }
  return ok();
}

void KafkaSink::stop() {
  if (!bus_) return;
  for (const auto id : subscriptions_) bus_->unsubscribe(id);
  subscriptions_.clear();
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
  if (producer_) {
    rd_kafka_flush(producer_, static_cast<int>(options_.drain_timeout.count()));
    // Whatever is still queued gets a "purged" delivery report and is dead-lettered.
    rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(producer_, 0);
  }
  bus_ = nullptr;
}

void KafkaSink::produce(std::string_view bus_topic, const Event& event) {
  const std::string topic = expand(options_.topic, bus_topic, event);
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      producer_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(event.subject.data(), event.subject.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(event.data.data()), event.data.size()),
      RD_KAFKA_V_HEADER("ce_type", event.type.data(), static_cast<ssize_t>(event.type.size())),
      RD_KAFKA_V_HEADER("ce_id", event.id.data(), static_cast<ssize_t>(event.id.size())),
      RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Refused before queueing (queue full, unknown topic in the local cache, ...).
    deadLetter(event.subject, event.data,
               fmt::format("kafka refused the message: {}", rd_kafka_err2str(err)));
  }
}

void KafkaSink::onDelivery(rd_kafka_s* /*rk*/, const rd_kafka_message_s* message, void* opaque) {
  auto* sink = static_cast<KafkaSink*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    sink->delivered_.inc();
    return;
  }
  sink->deadLetter(
      std::string(static_cast<const char*>(message->key), message->key_len),
      std::string(static_cast<const char*>(message->payload), message->len),
      fmt::format("kafka did not take the message: {}", rd_kafka_err2str(message->err)));
}

void KafkaSink::deadLetter(std::string subject, std::string payload, std::string reason) {
  dead_lettered_.inc();
  Log("sink", name_).warn("{} (dead-lettered)", reason);
  DeadLetter letter{0,
                    clock_.nowNs(),
                    "sink:" + name_,
                    std::move(reason),
                    std::move(subject),
                    std::move(payload)};
  if (auto stored = dead_letters_->put(std::move(letter)); !stored) {
    Log("sink", name_)
        .error("message lost, the dead-letter store failed: {}", stored.error().str());
  }
}

}  // namespace sie::kafka
