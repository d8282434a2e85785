#include "eval/sim_evaluation.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "adapters/sim/faults.h"
#include "adapters/sim/sim_source.h"
#include "adapters/sim/simulator.h"
#include "config/function_manifest.h"
#include "core/config_table.h"
#include "core/topic_pattern.h"
#include "eval/scratch_node.h"
#include "runtime/function_runner.h"

namespace sie::node {
namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;

FunctionSpec zscoreBaseline(const FunctionSpec& of) {
  FunctionSpec b;
  b.name = of.name + "-zscore";
  b.version = "baseline";
  b.runtime = "builtin";
  b.handler = "zscore";
  b.triggers = of.triggers;
  InputBinding history;
  history.name = "history";
  history.last = 120;
  b.inputs = {history};
  b.params = {{"threshold", 5}, {"min_samples", 30}};
  b.outputs = {OutputRule{}};
  b.source_file = "<baseline of " + of.id() + ">";
  return b;
}

// The simulator options of the site's first sim source, with the evaluation's seed.
Result<sim::SimOptions> simOptions(const SiteConfig& site, std::uint64_t seed) {
  sim::SimOptions options;
  for (const auto& block : site.sources) {
    if (block.type != "sim") continue;
    static constexpr std::string_view kReserved[] = {"name", "type", "personal"};
    auto config = SIE_TRY(readConfig(block.config, sim::configKeys(), site.file, kReserved));
    options = SIE_TRY(sim::readSourceOptions(config)).sim;
    break;
  }
  options.seed = seed;
  return options;
}

// One evaluated function: its runner and the tally of its decisions.
struct Tracked {
  std::unique_ptr<FunctionRunner> runner;
  std::vector<TopicPattern> triggers;
  FunctionScore score;
  std::set<std::string> triggers_seen;
  std::map<std::string, bool> last_false_positive;  // per trigger sensor
  // Faults by (asset, start): the simulator's fault list grows while it runs.
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> first_detection;
};

bool isSensorFault(const sim::FaultInterval& f) {
  for (const auto kind : sim::kSensorFaultKinds) {
    if (f.kind == sim::faultKindName(kind)) return true;
  }
  return false;
}

// The fault a decision on `sensor` should detect: one that changes the sensor's readings, or a
// process fault (leak, overload, bearing) of the sensor's asset. A sensor fault on another
// channel the function reads is not its target: decisions are attributed to the trigger.
const sim::FaultInterval* targetFault(const sim::Simulator& sim, const std::string& sensor,
                                      std::int64_t ts_ns) {
  if (const auto* own = sim.faultAt(sensor, ts_ns)) return own;
  const auto first = sensor.find('/');
  const auto second = sensor.find('/', first + 1);
  if (first == std::string::npos || second == std::string::npos) return nullptr;
  const std::string_view domain(sensor.data(), first);
  const std::string_view asset(sensor.data() + first + 1, second - first - 1);
  for (const auto& f : sim.faults()) {
    if (f.start_ns > ts_ns) break;  // sorted by start
    if (ts_ns < f.end_ns && f.domain == domain && f.asset == asset && !isSensorFault(f)) return &f;
  }
  return nullptr;
}

bool targets(const sim::FaultInterval& f, const std::set<std::string>& triggers) {
  for (const auto& sensor : triggers) {
    if (std::find(f.sensors.begin(), f.sensors.end(), sensor) != f.sensors.end()) return true;
    if (isSensorFault(f)) continue;
    if (sensor.starts_with(f.domain + "/" + f.asset + "/")) return true;
  }
  return false;
}

// `scored_from`: decisions on readings before it (the warm-up) are not scored.
void tally(Tracked& t, const sim::Simulator& sim, std::int64_t scored_from,
           const Telemetry& reading, const Decision& d) {
  if (reading.ts_ns < scored_from) return;
  FunctionScore& s = t.score;
  const std::string sensor(reading.sensor.str());
  const sim::FaultInterval* fault = targetFault(sim, sensor, reading.ts_ns);
  t.triggers_seen.insert(sensor);
  const bool scored = !notScored(d);
  if (!scored) ++s.not_scored;
  const bool predicted = scored && d.anomaly;
  s.count(predicted, fault != nullptr);
  bool& previous_fp = t.last_false_positive[sensor];
  if (fault != nullptr && predicted) {
    t.first_detection.emplace(std::pair(fault->asset, fault->start_ns), reading.ts_ns);
  }
  const bool false_positive = fault == nullptr && predicted;
  if (false_positive && !previous_fp) ++s.false_alarms;
  previous_fp = false_positive;
}

void finish(Tracked& t, const sim::Simulator& sim, std::int64_t start_ns, std::int64_t end_ns) {
  FunctionScore& s = t.score;
  s.hours = static_cast<double>(end_ns - start_ns) / (3600.0 * kNsPerSecond);
  std::vector<double> delays;
  for (const auto& fault : sim.faults()) {
    if (fault.start_ns >= end_ns) break;
    if (fault.end_ns <= start_ns) continue;  // over during the warm-up
    if (!targets(fault, t.triggers_seen)) continue;
    ++s.faults;
    auto hit = t.first_detection.find(std::pair(fault.asset, fault.start_ns));
    if (hit == t.first_detection.end()) continue;
    ++s.detected;
    delays.push_back(static_cast<double>(hit->second - fault.start_ns) / kNsPerSecond);
  }
  if (!delays.empty()) {
    std::sort(delays.begin(), delays.end());
    const std::size_t mid = delays.size() / 2;
    s.median_delay_s = delays.size() % 2 == 1 ? delays[mid] : (delays[mid - 1] + delays[mid]) / 2;
  }
}

}  // namespace

Result<std::vector<FunctionScore>> evaluateOnSimulator(const SiteConfig& site,
                                                       const Plugins& plugins,
                                                       const EvalOptions& options) {
  if (options.duration.count() <= 0) {
    return fail(Errc::kInvalidArgument,
                fmt::format("duration must be positive (got {}s)", options.duration.count()));
  }
  if (options.warmup.count() < 0) {
    return fail(Errc::kInvalidArgument,
                fmt::format("warmup must not be negative (got {}s)", options.warmup.count()));
  }
  auto sim_options = SIE_TRY(simOptions(site, options.seed));
  if (options.fault_rate) sim_options.faults_per_asset_hour = *options.fault_rate;
  SIE_CHECK(sim::validateOptions(sim_options));
  auto specs = SIE_TRY(parseManifestSet(site.function_files, schemasOf(plugins.runtimes)));
  std::vector<std::string> baseline_of(specs.size());
  if (options.baseline) {
    const std::size_t declared = specs.size();
    for (std::size_t i = 0; i < declared; ++i) {
      if (specs[i].runtime == "builtin") continue;
      specs.push_back(zscoreBaseline(specs[i]));
      baseline_of.push_back(specs[i].id());
    }
  }

  auto scratch = SIE_TRY(ScratchNode::open(options.scratch_dir, site.state_memory_window));
  StateStore& state = scratch->state();
  sim::Simulator sim(sim_options);
  const std::int64_t start_ns = sim.now() + options.warmup.count() * kNsPerSecond;

  std::vector<Tracked> tracked(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    FunctionSpec& spec = specs[i];
    auto runtime = plugins.runtimes.find(spec.runtime);
    if (!runtime) return fail(Errc::kInvalidArgument, runtime.error().message, spec.source_file);
    SIE_CHECK((**runtime)->validate(spec));
    Tracked& t = tracked[i];
    for (const auto& topic : spec.triggers)
      t.triggers.push_back(SIE_TRY(TopicPattern::parse(topic)));
    t.score.function = spec.id();
    t.score.baseline_of = baseline_of[i];
    t.runner =
        std::make_unique<FunctionRunner>(std::move(spec), **runtime, state, scratch->actions());
    t.runner->tap([&t, &sim, start_ns](const Telemetry& r, const Decision& d) {
      tally(t, sim, start_ns, r, d);
    });
    SIE_CHECK(t.runner->warm());
  }

  // Escalations as the node wires them (by name, among the site's own functions).
  for (Tracked& t : tracked) {
    const auto& escalate = t.runner->spec().escalate;
    if (!escalate) continue;
    auto target = std::find_if(tracked.begin(), tracked.end(), [&](const Tracked& o) {
      return o.runner->spec().name == escalate->to && o.score.baseline_of.empty();
    });
    if (target == tracked.end()) {
      return fail(Errc::kNotFound,
                  fmt::format("spec.escalate.to: no function named '{}'", escalate->to),
                  t.runner->spec().source_file);
    }
    t.runner->escalateTo(target->runner->asEscalationTarget());
  }
  const std::int64_t end_ns = start_ns + options.duration.count() * kNsPerSecond;
  std::vector<Telemetry> batch;
  while (sim.now() < end_ns) {
    batch.clear();
    sim.advance(std::min(end_ns, sim.now() + kNsPerSecond), batch);
    for (Telemetry& reading : batch) {
      SIE_CHECK(state.timeSeries().append(reading));
      Event event;
      event.subject = std::string(reading.sensor.str());
      event.type = std::string(kTelemetryType);
      event.telemetry = std::move(reading);
      for (Tracked& t : tracked) {
        const bool triggered = std::any_of(t.triggers.begin(), t.triggers.end(),
                                           [&](const auto& p) { return p.matches(event.subject); });
        if (triggered) t.runner->handle(event);
      }
    }
  }
  for (Tracked& t : tracked) t.runner->stopEscalating();
  std::vector<FunctionScore> scores;
  for (Tracked& t : tracked) {
    finish(t, sim, start_ns, end_ns);
    scores.push_back(t.score);
  }
  return scores;
}

}  // namespace sie::node
