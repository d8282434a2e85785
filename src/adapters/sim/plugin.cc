// The "sim" source type: its config table and factory.
#include <fmt/format.h>

#include "adapters/sim/sim_source.h"

namespace sie::sim {
namespace {

using Type = ConfigKey::Type;

const ConfigKey kKeys[] = {
    {"seed", Type::kInt, "42", "random seed: the same seed gives the same signals and faults"},
    {"domains", Type::kStringList, "",
     "domains to simulate: grid, hvac, rotating, datacenter, water (default: all)"},
    {"assets", Type::kInt, "0", "assets per domain; 0 = each domain's default"},
    {"faultRate", Type::kDouble, "6", "injected faults per asset per hour; 0 = none"},
    {"speed", Type::kDouble, "1", "simulated seconds per wall-clock second (10 = 10x faster)"},
    {"vibrationRateHz", Type::kInt, "2000", "pump vibration sample rate"},
    {"vibrationBlock", Type::kInt, "256", "vibration samples per reading"},
    {"startAtNow", Type::kBool, "true",
     "start simulated time at the wall clock (false: 2026-01-01T00:00:00Z)"},
};

}  // namespace

Result<SimSourceOptions> readSourceOptions(const ConfigValues& config) {
  auto bad = [&](std::string message) {
    return fail(Errc::kInvalidArgument, std::move(message), config.where());
  };
  SimSourceOptions out;
  const std::int64_t seed = config.integer("seed");
  if (seed < 0) return bad(fmt::format("seed must not be negative (got {})", seed));
  out.sim.seed = static_cast<std::uint64_t>(seed);
  if (config.has("domains")) out.sim.domains = config.list("domains");
  for (const auto& [key, field] : {std::pair{"assets", &out.sim.assets_per_domain},
                                   std::pair{"vibrationRateHz", &out.sim.vibration_rate_hz},
                                   std::pair{"vibrationBlock", &out.sim.vibration_block}}) {
    const std::int64_t value = config.integer(key);
    if (value < -1'000'000 || value > 1'000'000) {
      return bad(fmt::format("{} is out of range (got {})", key, value));
    }
    *field = static_cast<int>(value);
  }
  out.sim.faults_per_asset_hour = config.number("faultRate");
  out.speed = config.number("speed");
  if (!(out.speed > 0 && out.speed <= 10'000)) {
    return bad(fmt::format("speed must be above 0 and at most 10000 (got {})", out.speed));
  }
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
