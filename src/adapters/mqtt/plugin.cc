#include "adapters/mqtt/plugin.h"

#include <unistd.h>

#include <fmt/format.h>

#include "adapters/mqtt/mqtt_sink.h"
#include "adapters/mqtt/mqtt_source.h"
#include "core/topic_pattern.h"

namespace sie::mqtt {
namespace {

using Type = ConfigKey::Type;

const ConfigKey kSourceKeys[] = {
    {"topics", Type::kStringList, "",
     "topic templates to subscribe to, e.g. plant/{line}/{asset}/{signal}", true},
    {"qos", Type::kInt, "1", "subscription QoS: 0 or 1"},
    {"sensor", Type::kString, "",
     "sensor id template over the topic levels, e.g. {asset}/{signal}; default: the topic"},
    {"format", Type::kString, "auto", "payload format: auto | json | cbor | cloudevents | number"},
    {"carry", Type::kStringList, "",
     "payload fields carried to decisions as tags (seq, correlation ids)"},
    {"receiveTime", Type::kBool, "true",
     "stamp readings that carry no timestamp with their arrival time"},
    {"group", Type::kString, "",
     "shared subscription group ($share/<group>/...): consumers of one group split the messages; "
     "a sensor whose messages are split arrives out of order, so give each sensor one consumer"},
};

const ConfigKey kSinkKeys[] = {
    {"subscribe", Type::kStringList, "", "bus topic patterns to publish (default: decisions/#)"},
    {"topic", Type::kString, "sie/{topic}",
     "output topic template: {topic} {subject} {id} {type} and the reading's tags"},
    {"payload", Type::kString, "{data}", "payload template; {data} is the event's JSON"},
    {"qos", Type::kInt, "1", "publish QoS: 0 or 1"},
    {"retain", Type::kBool, "false", "publish with the retain flag"},
    ConfigKey{"maxQueued", Type::kInt, "10000",
              "QoS 1 messages kept while the broker is unreachable; more are dead-lettered"}
        .within(1, 10'000'000),
    {"drainTimeout", Type::kDuration, "5s", "on shutdown, how long to wait for acknowledgements"},
};

std::vector<ConfigKey> withConnection(std::span<const ConfigKey> own) {
  std::vector<ConfigKey> keys(connectionKeys().begin(), connectionKeys().end());
  keys.insert(keys.end(), own.begin(), own.end());
  return keys;
}

Result<int> readQos(const ConfigValues& config) {
  const std::int64_t qos = config.integer("qos");
  if (qos != 0 && qos != 1) {
    return config.invalid(fmt::format("qos must be 0 or 1 (got {})", qos));
  }
  return static_cast<int>(qos);
}

Result<SourceOptions> readSource(const std::string& name, const ConfigValues& config) {
  SourceOptions out;
  out.connection = SIE_TRY(readConnection(config, "sie-" + name));
  for (const auto& text : config.list("topics")) {
    auto topic = TopicTemplate::parse(text);
    if (!topic) return config.invalid(topic.error().message);
    out.topics.push_back(std::move(*topic));
  }
  if (out.topics.empty()) {
    return config.invalid("topics must name at least one topic template");
  }
  out.qos = SIE_TRY(readQos(config));
  out.sensor = config.str("sensor");
  const std::string format = config.str("format");
  if (format == "auto")
    out.format = PayloadFormat::kAuto;
  else if (format == "json")
    out.format = PayloadFormat::kJson;
  else if (format == "cbor")
    out.format = PayloadFormat::kCbor;
  else if (format == "cloudevents")
    out.format = PayloadFormat::kCloudEvents;
  else if (format == "number")
    out.format = PayloadFormat::kNumber;
  else {
    return fail(
        Errc::kInvalidArgument,
        fmt::format("format must be auto, json, cbor, cloudevents or number (got '{}')", format),
        config.where());
  }
  if (config.has("carry")) out.carry = config.list("carry");
  out.receive_time = config.flag("receiveTime");
  out.group = config.str("group");
  if (out.group.find_first_of("/+#") != std::string::npos) {
    return config.invalid(fmt::format("group '{}' must not contain '/', '+' or '#'", out.group));
  }
  return out;
}

Result<SinkOptions> readSink(const std::string& name, const ConfigValues& config) {
  SinkOptions out;
  out.connection = SIE_TRY(readConnection(config, fmt::format("sie-{}-{}", name, ::getpid())));
  if (auto patterns = config.list("subscribe"); !patterns.empty()) out.subscribe = patterns;
  for (const auto& pattern : out.subscribe) {
    if (auto parsed = TopicPattern::parse(pattern); !parsed) {
      return config.invalid("subscribe: " + parsed.error().message);
    }
  }
  out.topic = config.str("topic");
  if (out.topic.empty()) return config.invalid("topic must not be empty");
  if (out.topic.find_first_of("+#") != std::string::npos) {
    return config.invalid(
        fmt::format("topic '{}' must not contain the wildcards '+' or '#'", out.topic));
  }
  out.payload = config.str("payload");
  out.qos = SIE_TRY(readQos(config));
  out.retain = config.flag("retain");
  out.max_queued = static_cast<std::size_t>(config.integer("maxQueued"));
  out.drain_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.duration("drainTimeout"));
  return out;
}

}  // namespace

Status registerPlugins(Plugins& plugins) {
  SourcePlugin source;
  source.description = "MQTT 3.1.1/5 subscriber: JSON, CBOR, CloudEvents or plain-number payloads";
  source.keys = withConnection(kSourceKeys);
  source.make = [](const std::string& name,
                   const ConfigValues& config) -> Result<std::unique_ptr<Source>> {
    return std::make_unique<MqttSource>(name, SIE_TRY(readSource(name, config)));
  };
  SIE_CHECK(plugins.sources.add("mqtt", std::move(source)));

  SinkPlugin sink;
  sink.description =
      "MQTT 3.1.1/5 publisher of bus events (decisions) with topic and payload templates";
  sink.keys = withConnection(kSinkKeys);
  sink.make = [](const std::string& name,
                 const ConfigValues& config) -> Result<std::unique_ptr<Sink>> {
    return std::make_unique<MqttSink>(name, SIE_TRY(readSink(name, config)));
  };
  return plugins.sinks.add("mqtt", std::move(sink));
}

}  // namespace sie::mqtt
