#include "adapters/sparkplug/plugin.h"

#include <fmt/format.h>

#include "adapters/mqtt/mqtt_connection.h"
#include "adapters/sparkplug/sparkplug_source.h"

namespace sie::sparkplug {
namespace {

using Type = ConfigKey::Type;

const ConfigKey kKeys[] = {
    {"groupId", Type::kString, "+", "Sparkplug group id to follow (+ = every group)"},
    {"nodeSensor", Type::kString, "{group}/{node}/{metric}", "sensor id of edge node metrics"},
    {"deviceSensor", Type::kString, "{group}/{node}/{device}/{metric}",
     "sensor id of device metrics"},
    ConfigKey{"qos", Type::kInt, "0", "subscription QoS"}.within(0, 1),
    {"rebirth", Type::kBool, "true",
     "ask edge nodes that are out of step to publish their births again"},
    {"rebirthInterval", Type::kDuration, "5s",
     "at most one rebirth request per edge node per interval"},
    {"hostId", Type::kString, "",
     "be a Sparkplug 3.0 Primary Host Application with this id: birth and death (the will) on "
     "spBv1.0/STATE/<hostId>, so edge nodes that name it publish only while it is online"},
};

Result<std::unique_ptr<Source>> make(const std::string& name, const ConfigValues& config) {
  mqtt::SourceOptions mqtt;
  mqtt.connection = SIE_TRY(mqtt::readConnection(config, "sie-" + name));
  const std::string group = config.str("groupId");
  if (group.empty() || (group != "+" && group.find_first_of("/+#") != std::string::npos)) {
    return config.invalid(
        fmt::format("groupId must be + or a group id without '/', '+' or '#' (got '{}')", group));
  }
  auto topic = mqtt::TopicTemplate::parse(fmt::format("spBv1.0/{}/#", group));
  if (!topic) return config.invalid(topic.error().message);
  mqtt.topics.push_back(std::move(*topic));
  mqtt.qos = static_cast<int>(config.integer("qos"));
  HandlerOptions options;
  options.node_sensor = config.str("nodeSensor");
  options.device_sensor = config.str("deviceSensor");
  if (options.node_sensor.find("{metric}") == std::string::npos ||
      options.device_sensor.find("{metric}") == std::string::npos) {
    return config.invalid("nodeSensor and deviceSensor must contain {metric}");
  }
  options.rebirth = config.flag("rebirth");
  options.rebirth_interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.duration("rebirthInterval"));
  options.host_id = config.str("hostId");
  if (options.host_id.find_first_of("/+#") != std::string::npos) {
    return config.invalid(
        fmt::format("hostId must not contain '/', '+' or '#' (got '{}')", options.host_id));
  }
  return std::make_unique<mqtt::MqttSource>(
      name, std::move(mqtt), systemClock(),
      std::make_unique<SparkplugHandler>(name, std::move(options)));
}

}  // namespace

Status registerPlugins(Plugins& plugins) {
  SourcePlugin source;
  source.description =
      "Sparkplug B host over MQTT: births, aliases, data, deaths, rebirth requests, primary host "
      "STATE";
  source.keys.assign(mqtt::connectionKeys().begin(), mqtt::connectionKeys().end());
  source.keys.insert(source.keys.end(), std::begin(kKeys), std::end(kKeys));
  source.make = make;
  return plugins.sources.add("sparkplug", std::move(source));
}

}  // namespace sie::sparkplug
