// `sie sim`: writes simulated plant data with labelled faults to CSV (training and scoring data),
// or lists the simulated sensors.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "adapters/sim/csv_export.h"
#include "adapters/sim/simulator.h"
#include "cli/commands.h"
#include "sie/config.h"

namespace sie::cli {
namespace {

constexpr int kUsageError = 2;
constexpr int kRunError = 1;

struct SimArgs {
  std::string export_path;
  bool list_sensors = false;
  std::uint64_t seed = 42;
  std::string duration = "10m";
  std::vector<std::string> domains;
  double fault_rate = 6;
  int assets = 0;
  int vibration_rate_hz = 2000;
  int vibration_block = 256;
};

Result<sim::SimOptions> simOptions(const SimArgs& args) {
  sim::SimOptions options;
  options.seed = args.seed;
  if (!args.domains.empty()) options.domains = args.domains;
  options.assets_per_domain = args.assets;
  options.faults_per_asset_hour = args.fault_rate;
  options.vibration_rate_hz = args.vibration_rate_hz;
  options.vibration_block = args.vibration_block;
  SIE_CHECK(sim::validateOptions(options));
  return options;
}

Result<std::chrono::seconds> exportDuration(const std::string& text) {
  auto parsed = parseDuration(text);
  if (!parsed) return fail(Errc::kInvalidArgument, "--duration: " + parsed.error().message);
  const std::chrono::nanoseconds duration = *parsed;
  if (duration < std::chrono::seconds(1)) {
    return fail(Errc::kInvalidArgument,
                fmt::format("--duration must be at least 1s (got {})", text));
  }
  return std::chrono::ceil<std::chrono::seconds>(duration);
}

int listSensors(const sim::SimOptions& options) {
  const sim::Simulator simulator(options);
  double readings_per_s = 0;
  double samples_per_s = 0;
  fmt::print("{:<32} {:<6} {:>9} {:>22}  {}\n", "SENSOR", "UNIT", "RATE_HZ", "NOMINAL", "READING");
  for (const sim::SensorInfo& s : simulator.sensors()) {
    const double per_reading = s.block ? options.vibration_block : 1;
    fmt::print("{:<32} {:<6} {:>9g} {:>22}  {}\n", s.id, s.unit, s.rate_hz,
               fmt::format("{:.4g} .. {:.4g}", s.nominal_min, s.nominal_max),
               s.block ? fmt::format("block of {}", options.vibration_block) : "value");
    readings_per_s += s.rate_hz / per_reading;
    samples_per_s += s.rate_hz;
  }
  fmt::print("{} sensors: {:.1f} readings/s ({:.0f} samples/s) in real time\n",
             simulator.sensors().size(), readings_per_s, samples_per_s);
  return 0;
}

int exportData(const SimArgs& args, const sim::SimOptions& options) {
  auto duration = exportDuration(args.duration);
  if (!duration) {
    fmt::print(stderr, "sie sim: {}\n", duration.error().str());
    return kUsageError;
  }
  sim::ExportSummary summary;
  auto rows = sim::exportCsv(options, *duration, args.export_path, &summary);
  if (!rows) {
    fmt::print(stderr, "sie sim: {}\n", rows.error().str());
    return rows.error().code == Errc::kInvalidArgument ? kUsageError : kRunError;
  }
  std::map<std::string, int> by_kind;
  for (const sim::FaultInterval& fault : summary.faults) ++by_kind[fault.kind];
  std::vector<std::string> kinds;
  for (const auto& [kind, count] : by_kind) kinds.push_back(fmt::format("{} {}", kind, count));
  fmt::print("simulated {}s of {} sensors (seed {}): {} rows\n", duration->count(), summary.sensors,
             options.seed, summary.rows);
  fmt::print("readings: {}\n", summary.readings_path);
  fmt::print("faults:   {} ({} faults{}{})\n", summary.faults_path, summary.faults.size(),
             kinds.empty() ? "" : ": ", fmt::join(kinds, ", "));
  return 0;
}

int runSim(const SimArgs& args) {
  auto options = simOptions(args);
  if (!options) {
    fmt::print(stderr, "sie sim: {}\n", options.error().str());
    return kUsageError;
  }
  if (args.list_sensors) return listSensors(*options);
  if (args.export_path.empty()) {
    fmt::print(stderr, "sie sim: nothing to do: pass --export FILE or --list-sensors\n");
    return kUsageError;
  }
  return exportData(args, *options);
}

}  // namespace

void addSimCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SimArgs>();
  CLI::App* sub = app.add_subcommand(
      "sim",
      "Simulate the plant (power grid, HVAC, pumps, data center, water network) with labelled\n"
      "faults, and write the readings and the ground truth to CSV for training and scoring.");
  sub->footer(
      "Examples:\n"
      "  sie sim --list-sensors\n"
      "  sie sim --export data/train.csv --duration 2h --seed 7\n"
      "  sie sim --export grid.csv --domains grid,water --fault-rate 12");
  auto* export_path =
      sub->add_option("--export", args->export_path,
                      "Write one row per sample (ts_ns,sensor,value,fault) to FILE and the fault\n"
                      "intervals to FILE minus .csv plus .faults.csv")
          ->type_name("FILE");
  auto* list = sub->add_flag("--list-sensors", args->list_sensors,
                             "Print the simulated sensors with units, rates and nominal ranges");
  export_path->excludes(list);
  sub->add_option("--seed", args->seed, "Random seed: the same seed gives the same data")
      ->capture_default_str();
  sub->add_option("--duration", args->duration, "Simulated time to export, e.g. 600s, 10m, 2h")
      ->capture_default_str();
  sub->add_option("--domains", args->domains,
                  "Comma-separated domains: grid,hvac,rotating,datacenter,water (default: all)")
      ->delimiter(',');
  sub->add_option("--fault-rate", args->fault_rate, "Injected faults per asset per hour; 0 = none")
      ->capture_default_str();
  sub->add_option("--assets", args->assets, "Assets per domain; 0 = each domain's default")
      ->capture_default_str();
  sub->add_option("--vibration-rate", args->vibration_rate_hz, "Pump vibration sample rate in Hz")
      ->capture_default_str();
  sub->add_option("--vibration-block", args->vibration_block, "Vibration samples per reading")
      ->capture_default_str();
  sub->callback([args, &exit_code] { exit_code = runSim(*args); });
}

}  // namespace sie::cli
