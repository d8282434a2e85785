// The "sim" source type: its config table and factory.

#include "adapters/sim/sim_source.h"

namespace sie::sim {
namespace {

using Type = ConfigKey::Type;

const ConfigKey kKeys[] = {
    ConfigKey{"seed", Type::kInt, "42",
              "random seed: the same seed gives the same signals and faults"}
        .atLeast(0),
    {"domains", Type::kStringList, "",
     "domains to simulate: grid, hvac, rotating, datacenter, water (default: all)"},
    ConfigKey{"assets", Type::kInt, "0", "assets per domain; 0 = each domain's default"}.within(
        0, 1000),
    ConfigKey{"faultRate", Type::kDouble, "6", "injected faults per asset per hour; 0 = none"}
        .within(0, 3600),
    ConfigKey{"speed", Type::kDouble, "1",
              "simulated seconds per wall-clock second (10 = 10x faster)"}
        .within(0, 10'000)
        .above(0),
    ConfigKey{"vibrationRateHz", Type::kInt, "2000", "pump vibration sample rate"}.within(100,
                                                                                          100'000),
    ConfigKey{"vibrationBlock", Type::kInt, "256", "vibration samples per reading"}.within(1,
                                                                                           65'536),
    {"startAtNow", Type::kBool, "true",
     "start simulated time at the wall clock (false: 2026-01-01T00:00:00Z)"},
};

}  // namespace

Result<SimSourceOptions> readSourceOptions(const ConfigValues& config) {
  auto bad = [&](std::string message) {
    return fail(Errc::kInvalidArgument, std::move(message), config.where());
  };
  SimSourceOptions out;
  out.sim.seed = static_cast<std::uint64_t>(config.integer("seed"));
  if (config.has("domains")) out.sim.domains = config.list("domains");
  out.sim.assets_per_domain = static_cast<int>(config.integer("assets"));
  out.sim.vibration_rate_hz = static_cast<int>(config.integer("vibrationRateHz"));
  out.sim.vibration_block = static_cast<int>(config.integer("vibrationBlock"));
  out.sim.faults_per_asset_hour = config.number("faultRate");
  out.speed = config.number("speed");
  out.start_at_now = config.flag("startAtNow");
  if (auto valid = validateOptions(out.sim); !valid) return bad(valid.error().message);
  return out;
}

std::span<const ConfigKey> configKeys() { return kKeys; }

Status registerPlugin(Plugins& plugins) {
  SourcePlugin plugin;
  plugin.description =
      "plant simulator: grid, HVAC, pumps, data center and water signals with labelled faults";
  plugin.keys.assign(std::begin(kKeys), std::end(kKeys));
  plugin.make = [](const std::string& name,
                   const ConfigValues& config) -> Result<std::unique_ptr<Source>> {
    SimSourceOptions options = SIE_TRY(readSourceOptions(config));
    return std::make_unique<SimSource>(name, std::move(options));
  };
  return plugins.sources.add("sim", std::move(plugin));
}

}  // namespace sie::sim
