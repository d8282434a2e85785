// `sie eval`: detection quality of a site's functions against the simulator's labelled faults:
// per function precision, recall, F1, false alarms per hour and median detection delay, next to a
// z-score baseline on the same data.
#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/site_config.h"
#include "eval/csv_evaluation.h"
#include "eval/sim_evaluation.h"

namespace sie::cli {
namespace {

struct EvalCommandOptions {
  std::string site;
  std::vector<std::string> csv;
  std::string label = "anomaly";
  std::vector<std::string> ignore = {"changepoint"};
  std::string time_column;
  std::size_t fit_rows = 0;
  std::string function;
  std::uint64_t seed = 1;
  std::string duration = "1h";
  std::string warmup = "0s";
  double fault_rate = -1;  // < 0: the site's
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
  j["medianDetectionDelaySeconds"] =
      s.detected > 0 ? nlohmann::ordered_json(s.median_delay_s) : nlohmann::ordered_json(nullptr);
  j["hours"] = s.hours;
  return j;
}

void printTable(const std::vector<node::FunctionScore>& scores) {
  const auto label = [](const node::FunctionScore& s) {
    return s.baseline_of.empty() ? s.function : "  baseline " + s.function;
  };
  std::size_t width = 40;  // the column fits the longest name, so figures stay aligned
  for (const auto& s : scores) width = std::max(width, label(s).size());
  std::cout << fmt::format("{:<{}} {:>9} {:>9} {:>9} {:>6} {:>9} {:>9} {:>11}\n", "function", width,
                           "decisions", "precision", "recall", "F1", "FA/hour", "detected",
                           "delay p50 s");
  for (const auto& s : scores) {
    std::cout << fmt::format("{:<{}} {:>9} {:>9.3f} {:>9.3f} {:>6.3f} {:>9.1f} {:>9} {:>11}\n",
                             label(s), width, s.decisions, s.precision(), s.recall(), s.f1(),
                             s.falseAlarmsPerHour(), fmt::format("{}/{}", s.detected, s.faults),
                             s.detected > 0 ? fmt::format("{:.1f}", s.median_delay_s) : "-");
  }
}

nlohmann::ordered_json csvScoreJson(const node::FunctionScore& s) {
  return {{"rows", s.decisions},
          {"notScored", s.not_scored},
          {"tp", s.tp},
          {"fp", s.fp},
          {"fn", s.fn},
          {"tn", s.tn},
          {"precision", s.precision()},
          {"recall", s.recall()},
          {"f1", s.f1()},
          {"far", s.falseAlarmRate()},
          {"mar", s.missedAlarmRate()}};
}

int reportCsv(const node::CsvEvalResult& r, const EvalCommandOptions& o) {
  if (o.json) {
    nlohmann::ordered_json j;
    j["function"] = r.function;
    j["files"] = r.files.size();
    j["fitRows"] = o.fit_rows;
    j["label"] = o.label;
    j["total"] = csvScoreJson(r.total);
    j["medianEventMicroseconds"] = r.median_event_us;
    j["perFile"] = nlohmann::ordered_json::array();
    for (const auto& f : r.files) {
      auto one = csvScoreJson(f);
      one["file"] = f.function;
      j["perFile"].push_back(std::move(one));
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format(
      "{} on {} files ({} scored rows, first {} rows of each file for fitting)\n\n", r.function,
      r.files.size(), r.rows, o.fit_rows);
  std::cout << fmt::format("{:<40} {:>7} {:>9} {:>7} {:>6} {:>7} {:>7}\n", "file", "rows",
                           "precision", "recall", "F1", "FAR %", "MAR %");
  auto line = [](const std::string& name, const node::FunctionScore& s) {
    std::cout << fmt::format("{:<40} {:>7} {:>9.3f} {:>7.3f} {:>6.3f} {:>7.2f} {:>7.2f}\n", name,
                             s.decisions, s.precision(), s.recall(), s.f1(),
                             100 * s.falseAlarmRate(), 100 * s.missedAlarmRate());
  };
  for (const auto& f : r.files) line(f.function, f);
  line("all files", r.total);
  std::cout << fmt::format("\nmedian time per event (inputs, inference, actions): {:.1f} us\n",
                           r.median_event_us);
  return 0;
}

int runCsvEval(const EvalCommandOptions& o, const node::SiteConfig& site, const Plugins& plugins,
               const std::string& scratch) {
  if (o.function.empty()) {
    std::cerr << "sie eval: --csv needs --function NAME (a function of the site)\n";
    return 2;
  }
  auto files = node::listCsvFiles(o.csv);
  if (!files) {
    std::cerr << "sie eval: " << files.error().str() << "\n";
    return 2;
  }
  node::CsvEvalOptions options;
  options.files = std::move(*files);
  options.label = o.label;
  options.ignore = o.ignore;
  options.time_column = o.time_column;
  options.fit_rows = o.fit_rows;
  options.function = o.function;
  options.scratch_dir = scratch;
  auto result = node::evaluateOnCsv(site, plugins, options);
  if (!result) {
    std::cerr << "sie eval: " << result.error().str() << "\n";
    return 2;
  }
  return reportCsv(*result, o);
}

int runEval(const EvalCommandOptions& o) {
  auto duration = parseDuration(o.duration);
  if (!duration || duration->count() <= 0) {
    std::cerr << "sie eval: --duration must be a positive duration such as 30m or 2h (got '"
              << o.duration << "')\n";
    return 2;
  }
  auto warmup = parseDuration(o.warmup);
  if (!warmup || warmup->count() < 0) {
    std::cerr << "sie eval: --warmup must be a duration such as 0s or 30m (got '" << o.warmup
              << "')\n";
    return 2;
  }
  auto site = o.site.empty()
                  ? node::loadDemoSite()
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
  const std::string scratch =
      (std::filesystem::temp_directory_path() / fmt::format("sie-eval-{}", ::getpid())).string();
  if (!o.csv.empty()) return runCsvEval(o, *site, plugins, scratch);
  node::EvalOptions options;
  options.seed = o.seed;
  if (o.fault_rate >= 0) options.fault_rate = o.fault_rate;
  options.duration = std::chrono::duration_cast<std::chrono::seconds>(*duration);
  options.warmup = std::chrono::duration_cast<std::chrono::seconds>(*warmup);
  options.baseline = !o.no_baseline;
  options.scratch_dir = scratch;
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
    j["warmupSeconds"] = options.warmup.count();
    j["functions"] = nlohmann::ordered_json::array();
    for (const auto& s : *scores) j["functions"].push_back(scoreJson(s));
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << fmt::format(
        "site {} · simulator seed {} · {} simulated{}\n\n", site->file, o.seed, o.duration,
        options.warmup.count() > 0 ? " after " + o.warmup + " of warm-up" : "");
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
  eval->add_option("--fault-rate", options->fault_rate,
                   "Faults per asset per hour (default: the site's sim source)");
  eval->add_option("--duration", options->duration, "Simulated time scored, e.g. 30m, 2h")
      ->capture_default_str();
  eval->add_option("--warmup", options->warmup,
                   "Simulated first and not scored, so windows fill (e.g. 30m; like --fit-rows)")
      ->capture_default_str();
  eval->add_flag("--json", options->json, "Print JSON");
  eval->add_flag("--no-baseline", options->no_baseline, "Skip the z-score baseline rows");
  eval->add_option(
      "--csv", options->csv,
      "Score on labelled CSV files instead (files or folders of *.csv); needs --function");
  eval->add_option("--function", options->function,
                   "--csv: the function to score (name or name@version)");
  eval->add_option("--label", options->label, "--csv: the 0/1 label column")->capture_default_str();
  eval->add_option(
          "--fit-rows", options->fit_rows,
          "--csv: leading rows of each file for calibration (per-asset statistics), not scored")
      ->capture_default_str();
  eval->add_option("--ignore", options->ignore, "--csv: columns that are not signals")
      ->capture_default_str();
  eval->add_option("--time-column", options->time_column,
                   "--csv: the time column (default: detected)");
  eval->callback([options, &exit_code] { exit_code = runEval(*options); });
}

}  // namespace sie::cli
