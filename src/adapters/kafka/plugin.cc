#include "adapters/kafka/plugin.h"

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>

#include "adapters/kafka/kafka_sink.h"
#include "core/topic_pattern.h"

namespace sie::kafka {
namespace {

using Type = ConfigKey::Type;

const ConfigKey kKeys[] = {
    {"brokers", Type::kString, "", "bootstrap servers, host:port[,host:port]", true},
    {"topic", Type::kString, "sie.decisions", "Kafka topic; {subject} {type} {topic} expand"},
    {"subscribe", Type::kStringList, "", "bus topic patterns to produce (default: decisions/#)"},
    ConfigKey{"deliveryTimeout", Type::kDuration, "30s",
              "how long librdkafka retries a message before it is dead-lettered"}
        .withinTime(std::chrono::milliseconds(1)),
    {"drainTimeout", Type::kDuration, "5s",
     "on shutdown, how long to wait for outstanding deliveries"},
    {"properties", Type::kStringList, "",
     "more librdkafka settings, \"key=value\" (security.protocol, sasl.*, ...)"},
};

Result<KafkaOptions> read(const ConfigValues& config) {
  KafkaOptions out;
  out.brokers = config.str("brokers");
  out.topic = config.str("topic");
  if (out.topic.empty()) return config.invalid("topic must not be empty");
  if (auto patterns = config.list("subscribe"); !patterns.empty()) out.subscribe = patterns;
  for (const auto& pattern : out.subscribe) {
    if (auto p = TopicPattern::parse(pattern); !p)
      return config.invalid("subscribe: " + p.error().message);
  }
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  out.delivery_timeout = duration_cast<milliseconds>(config.duration("deliveryTimeout"));
  out.drain_timeout = duration_cast<milliseconds>(config.duration("drainTimeout"));
  for (const auto& property : config.list("properties")) {
    const std::size_t eq = property.find('=');
    if (eq == std::string::npos || eq == 0) {
      return config.invalid(fmt::format("property '{}' must read key=value", property));
    }
    out.properties.emplace_back(property.substr(0, eq), property.substr(eq + 1));
  }
  // librdkafka knows its settings: ask it now, so a wrong one fails at load time with file:line.
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [key, value] : out.properties) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return config.invalid(fmt::format("property {}={}: {}", key, value, error));
    }
  }
  rd_kafka_conf_destroy(conf);
  return out;
}

}  // namespace

Status registerPlugins(Plugins& plugins) {
  SinkPlugin sink;
  sink.description = "Kafka producer (librdkafka): idempotent, keyed by sensor, delivery reports";
  sink.keys.assign(std::begin(kKeys), std::end(kKeys));
  sink.make = [](const std::string& name,
                 const ConfigValues& config) -> Result<std::unique_ptr<Sink>> {
    return std::make_unique<KafkaSink>(name, SIE_TRY(read(config)));
  };
  return plugins.sinks.add("kafka", std::move(sink));
}

}  // namespace sie::kafka
