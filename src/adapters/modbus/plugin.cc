#include "adapters/modbus/plugin.h"

#include <fmt/format.h>

#include "adapters/modbus/modbus_sink.h"
#include "adapters/modbus/modbus_source.h"
#include "core/topic_pattern.h"

namespace sie::modbus {
namespace {

using Type = ConfigKey::Type;

const std::vector<ConfigKey>& pollPointKeys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> out = {
        {"sensor", Type::kString, "", "sensor id of the readings, e.g. water/tank1/level", true},
        {"unit", Type::kString, "", "engineering unit, carried as the tag 'unit'"},
        ConfigKey{"interval", Type::kDuration, "",
                  "poll interval; default: the source's pollInterval"}
            .withinTime(std::chrono::milliseconds(10)),
    };
    out.insert(out.end(), pointKeys().begin(), pointKeys().end());
    return out;
  }();
  return keys;
}

std::span<const ConfigKey> pollPointTable() { return pollPointKeys(); }

std::vector<ConfigKey> sourceKeys() {
  std::vector<ConfigKey> keys(deviceKeys().begin(), deviceKeys().end());
  keys.push_back(
      ConfigKey{"pollInterval", Type::kDuration, "1s", "default poll interval of the points"}
          .withinTime(std::chrono::milliseconds(10)));
  keys.push_back({"points", Type::kTableList, "", "the points to poll", true, &pollPointTable});
  return keys;
}

std::vector<ConfigKey> sinkKeys() {
  std::vector<ConfigKey> keys(deviceKeys().begin(), deviceKeys().end());
  for (const auto& key : pointKeys()) {
    if (key.name != "unitId") keys.push_back(key);  // the device's unitId serves both
  }
  keys.push_back({"subscribe", Type::kStringList, "",
                  "bus topic patterns of the decisions to act on (default: decisions/#)"});
  keys.push_back(ConfigKey{"when", Type::kString, "anomaly", "which decisions write"}.oneOf(
      "anomaly|normal|always"));
  keys.push_back(
      {"value", Type::kDouble, "", "the engineering value to write (coils: 0 or 1)", true});
  keys.push_back({"verify", Type::kBool, "true", "read the point back after writing and compare"});
  keys.push_back(ConfigKey{"retries", Type::kInt, "2",
                           "write attempts after the first when the device does not answer"}
                     .within(0, 10));
  keys.push_back({"minInterval", Type::kDuration, "1s", "at most one write per interval"});
  keys.push_back(ConfigKey{"maxQueued", Type::kInt, "1000",
                           "writes waiting for the device; more are dead-lettered"}
                     .within(1, 1'000'000));
  return keys;
}

Result<SourceOptions> readSource(const ConfigValues& config) {
  SourceOptions out;
  out.device = SIE_TRY(readDevice(config));
  const auto default_interval = config.duration("pollInterval");
  for (const ConfigValues& entry : config.tables("points")) {
    PollPoint p;
    p.sensor = entry.str("sensor");
    if (p.sensor.empty() || p.sensor.find_first_of("+#") != std::string::npos) {
      return entry.invalid(
          fmt::format("sensor '{}' must be a non-empty id without '+' or '#'", p.sensor));
    }
    p.point = SIE_TRY(readPoint(entry, out.device.unit_id));
    p.unit = entry.str("unit");
    p.interval = entry.has("interval") ? entry.duration("interval") : default_interval;
    out.points.push_back(std::move(p));
  }
  if (out.points.empty()) {
    return config.invalid("points must list at least one point");
  }
  return out;
}

Result<WriteOptions> readSink(const ConfigValues& config) {
  WriteOptions out;
  out.device = SIE_TRY(readDevice(config));
  out.point = SIE_TRY(readPoint(config, out.device.unit_id));
  if (!out.point.writable()) {
    return config.invalid(fmt::format("a {} cannot be written: use table coil or holding",
                                      tableName(out.point.table)));
  }
  if (auto patterns = config.list("subscribe"); !patterns.empty()) out.subscribe = patterns;
  for (const auto& pattern : out.subscribe) {
    if (auto parsed = TopicPattern::parse(pattern); !parsed)
      return config.invalid("subscribe: " + parsed.error().message);
  }
  const std::string when = config.str("when");
  if (when == "anomaly")
    out.when = WriteOptions::When::kAnomaly;
  else if (when == "normal")
    out.when = WriteOptions::When::kNormal;
  else
    out.when = WriteOptions::When::kAlways;
  out.value = config.number("value");
  if (auto encoded = encodeRegisters(out.point, out.value); !encoded)
    return config.invalid(encoded.error().message);
  out.verify = config.flag("verify");
  out.retries = static_cast<int>(config.integer("retries"));
  out.min_interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.duration("minInterval"));
  out.max_queued = static_cast<std::size_t>(config.integer("maxQueued"));
  return out;
}

}  // namespace

Status registerPlugins(Plugins& plugins) {
  SourcePlugin source;
  source.description = "Modbus TCP poller (libmodbus): registers and bits to readings";
  source.keys = sourceKeys();
  source.make = [](const std::string& name,
                   const ConfigValues& config) -> Result<std::unique_ptr<Source>> {
    return std::make_unique<ModbusSource>(name, SIE_TRY(readSource(config)));
  };
  SIE_CHECK(plugins.sources.add("modbus", std::move(source)));

  SinkPlugin sink;
  sink.description =
      "Modbus TCP write action: decisions write a coil or holding register, verified";
  sink.keys = sinkKeys();
  sink.make = [](const std::string& name,
                 const ConfigValues& config) -> Result<std::unique_ptr<Sink>> {
    return std::make_unique<ModbusSink>(name, SIE_TRY(readSink(config)));
  };
  return plugins.sinks.add("modbus", std::move(sink));
}

}  // namespace sie::modbus
