// `sie eval`: detection quality of a site's functions against the simulator's labelled faults:
// per function precision, recall, F1, false alarms per hour and median detection delay, next to a
// z-score baseline on the same data.
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "node/sim_evaluation.h"
#include "node/site_config.h"

namespace sie::cli {
namespace {

struct EvalCommandOptions {
  std::string site;
  std::uint64_t seed = 1;
  std::string duration = "1h";
  bool json = false;
  bool no_baseline = false;
};

nlohmann::ordered_json scoreJson(const node::FunctionScore& s) {
  nlohmann::ordered_json j;
  j["function"] = s.function;
  if (!s.baseline_of.empty()) j["baselineOf"] = s.baseline_of;
  j["decisions"] = s.decisions;
  j["notScored"] = s.not_scored;
  j["tp"] = s.tp;
  j["fp"] = s.fp;
  j["fn"] = s.fn;
  j["tn"] = s.tn;
  j["precision"] = s.precision();
  j["recall"] = s.recall();
  j["f1"] = s.f1();
  j["falseAlarmsPerHour"] = s.falseAlarmsPerHour();
  j["faults"] = s.faults;
  j["detected"] = s.detected;
  j["medianDetectionDelaySeconds"] = s.detected > 0 ? nlohmann::ordered_json(s.median_delay_s)
                                                    : nlohmann::ordered_json(nullptr);
  j["hours"] = s.hours;
  return j;
}

void printTable(const std::vector<node::FunctionScore>& scores) {
  std::cout << fmt::format("{:<40} {:>9} {:>9} {:>9} {:>6} {:>9} {:>9} {:>11}\n", "function",
                           "decisions", "precision", "recall", "F1", "FA/hour", "detected",
                           "delay p50 s");
  for (const auto& s : scores) {
    const std::string name = s.baseline_of.empty() ? s.function : "  baseline " + s.function;
    std::cout << fmt::format("{:<40} {:>9} {:>9.3f} {:>9.3f} {:>6.3f} {:>9.1f} {:>9} {:>11}\n",
                             name, s.decisions, s.precision(), s.recall(), s.f1(),
                             s.falseAlarmsPerHour(), fmt::format("{}/{}", s.detected, s.faults),
                             s.detected > 0 ? fmt::format("{:.1f}", s.median_delay_s) : "-");
  }
}

int runEval(const EvalCommandOptions& o) {
  auto duration = parseDuration(o.duration);
  if (!duration || duration->count() <= 0) {
    std::cerr << "sie eval: --duration must be a positive duration such as 30m or 2h (got '"
              << o.duration << "')\n";
    return 2;
  }
  auto site = o.site.empty() ? node::loadDemoSite()
                             : node::loadSite(std::filesystem::is_directory(o.site)
                                                  ? (std::filesystem::path(o.site) / "site.yaml").string()
                                                  : o.site);
  if (!site) {
    std::cerr << "sie eval: " << site.error().str() << "\n";
    return 2;
  }
  Plugins plugins;
  if (auto registered = registerBuiltinPlugins(plugins); !registered) {
    std::cerr << "sie eval: " << registered.error().str() << "\n";
    return 2;
  }
  spdlog::set_level(spdlog::level::err);  // per-decision warnings would drown the report
  node::EvalOptions options;
  options.seed = o.seed;
  options.duration = std::chrono::duration_cast<std::chrono::seconds>(*duration);
  options.baseline = !o.no_baseline;
  options.scratch_dir =
      (std::filesystem::temp_directory_path() / fmt::format("sie-eval-{}", ::getpid())).string();
  auto scores = node::evaluateOnSimulator(*site, plugins, options);
  if (!scores) {
    std::cerr << "sie eval: " << scores.error().str() << "\n";
    return 2;
  }
  if (o.json) {
    nlohmann::ordered_json j;
    j["site"] = site->file;
    j["seed"] = o.seed;
    j["durationSeconds"] = options.duration.count();
    j["functions"] = nlohmann::ordered_json::array();
    for (const auto& s : *scores) j["functions"].push_back(scoreJson(s));
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << fmt::format("site {} · simulator seed {} · {} simulated\n\n", site->file, o.seed,
                             o.duration);
    printTable(*scores);
  }
  return 0;
}

}  // namespace

void addEvalCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<EvalCommandOptions>();
  auto* eval = app.add_subcommand(
      "eval",
      "Score a site's functions against the simulator's labelled faults: precision, recall, F1,\n"
      "false alarms per hour and median detection delay, beside a z-score baseline.");
  eval->add_option("--site", options->site, "Site folder or site.yaml (default: the demo site)");
  eval->add_option("--seed", options->seed, "Simulator seed")->capture_default_str();
  eval->add_option("--duration", options->duration, "Simulated time, e.g. 30m, 2h")
      ->capture_default_str();
  eval->add_flag("--json", options->json, "Print JSON");
  eval->add_flag("--no-baseline", options->no_baseline, "Skip the z-score baseline rows");
  eval->callback([options, &exit_code] { exit_code = runEval(*options); });
}

}  // namespace sie::cli
