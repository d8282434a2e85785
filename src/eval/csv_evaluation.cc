#include "eval/csv_evaluation.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "adapters/csv/csv_table.h"
#include "config/function_manifest.h"
#include "core/topic_pattern.h"
#include "eval/scratch_node.h"
#include "exec/builtin/readings.h"
#include "runtime/function_runner.h"
#include "sie/clock.h"

namespace sie::node {
namespace {

namespace fs = std::filesystem;

Result<FunctionSpec> findFunction(const SiteConfig& site, const Plugins& plugins,
                                  const std::string& name) {
  auto specs = SIE_TRY(parseManifestSet(site.function_files, schemasOf(plugins.runtimes)));
  std::vector<std::string> known;
  for (auto& spec : specs) {
    if (spec.name == name || spec.id() == name) return std::move(spec);
    known.push_back(spec.id());
  }
  return fail(Errc::kNotFound,
              fmt::format("no function '{}' in the site (it has {})", name, fmt::join(known, ", ")),
              site.file);
}

// File stems as sensor id levels, made unique with the parent folder when two files share one.
std::vector<std::string> assetNames(const std::vector<std::string>& files) {
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(csv::columnId(fs::path(f).stem().string()));
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (std::count(names.begin(), names.end(), names[i]) > 1) {
      const fs::path p(files[i]);
      names[i] = csv::columnId(p.parent_path().filename().string() + "-" + p.stem().string());
    }
  }
  return names;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

}  // namespace

Result<std::vector<std::string>> listCsvFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".csv")
          found.push_back(entry.path().string());
      }
      // Numeric stems in numeric order (2.csv before 10.csv), then by name.
      std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
        const std::string sa = fs::path(a).stem().string(), sb = fs::path(b).stem().string();
        const bool na = !sa.empty() && sa.find_first_not_of("0123456789") == std::string::npos;
        const bool nb = !sb.empty() && sb.find_first_not_of("0123456789") == std::string::npos;
        if (na && nb && sa.size() != sb.size()) return sa.size() < sb.size();
        return a < b;
      });
      if (found.empty()) return fail(Errc::kNotFound, "the folder holds no .csv file", path);
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(path, ec)) {
      files.push_back(path);
    } else {
      return fail(Errc::kNotFound, "no such file or folder", path);
    }
  }
  return files;
}

Result<CsvEvalResult> evaluateOnCsv(const SiteConfig& site, const Plugins& plugins,
                                    const CsvEvalOptions& options) {
  if (options.files.empty()) return fail(Errc::kInvalidArgument, "no CSV file to evaluate");
  FunctionSpec spec = SIE_TRY(findFunction(site, plugins, options.function));
  auto runtime = plugins.runtimes.find(spec.runtime);
  if (!runtime) return fail(Errc::kInvalidArgument, runtime.error().message, spec.source_file);
  SIE_CHECK((**runtime)->validate(spec));
  std::vector<TopicPattern> triggers;
  for (const auto& t : spec.triggers) triggers.push_back(SIE_TRY(TopicPattern::parse(t)));

  auto scratch = SIE_TRY(ScratchNode::open(options.scratch_dir, site.state_memory_window));
  StateStore& state = scratch->state();
  CsvEvalResult result;
  result.function = spec.id();
  FunctionRunner runner(std::move(spec), **runtime, state, scratch->actions());
  SIE_CHECK(runner.warm());

  // The decision of the row being run, for the tap to score.
  FunctionScore* file_score = nullptr;
  bool label = false;
  runner.tap([&](const Telemetry&, const Decision& d) {
    const bool scored = !notScored(d);
    for (FunctionScore* s : {&result.total, file_score}) {
      if (!scored) ++s->not_scored;
      s->count(scored && d.anomaly, label);
    }
  });

  const std::vector<std::string> assets = assetNames(options.files);
  std::vector<double> event_us;
  for (std::size_t f = 0; f < options.files.size(); ++f) {
    csv::ReadOptions read;
    read.time_column = options.time_column;
    auto table = SIE_TRY(csv::readTable(options.files[f], read));
    const int label_column = csv::findColumn(table, options.label);
    if (label_column < 0) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("no label column '{}' (columns: {})", options.label,
                              fmt::join(table.columns, ", ")),
                  options.files[f]);
    }
    if (table.rows.size() <= options.fit_rows) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("{} rows, not more than the {} fit rows", table.rows.size(),
                              options.fit_rows),
                  options.files[f]);
    }
    std::vector<std::pair<std::size_t, Symbol>> sensors;  // column, sensor
    std::vector<bool> triggering;
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      if (static_cast<int>(c) == label_column) continue;
      bool ignored = false;
      for (const auto& name : options.ignore)
        ignored = ignored || csv::columnId(name) == csv::columnId(table.columns[c]);
      if (ignored) continue;
      const std::string id = fmt::format("csv/{}/{}", assets[f], csv::columnId(table.columns[c]));
      sensors.emplace_back(c, Symbol::intern(id));
      triggering.push_back(std::any_of(triggers.begin(), triggers.end(),
                                       [&](const TopicPattern& p) { return p.matches(id); }));
    }
    result.files.emplace_back();
    file_score = &result.files.back();
    file_score->function = options.files[f];

    for (std::size_t r = 0; r < table.rows.size(); ++r) {
      for (const auto& [column, sensor] : sensors) {
        const double v = table.rows[r][column];
        if (std::isnan(v)) continue;
        Telemetry reading;
        reading.sensor = sensor;
        reading.ts_ns = table.ts_ns[r];
        reading.values = {v};
        SIE_CHECK(state.timeSeries().append(reading));
      }
      if (r + 1 == options.fit_rows) {
        // Each sensor's statistics over the fit rows, kept in the state layer.
        for (const auto& [column, sensor] : sensors) {
          double sum = 0, squares = 0;
          std::size_t n = 0;
          for (std::size_t k = 0; k < options.fit_rows; ++k) {
            const double v = table.rows[k][column];
            if (std::isnan(v)) continue;
            sum += v;
            squares += v * v;
            ++n;
          }
          if (n == 0) continue;
          const double mean = sum / static_cast<double>(n);
          const double var = std::max(0.0, squares / static_cast<double>(n) - mean * mean);
          const std::string id(sensor.str());
          SIE_CHECK(state.kv().put("fit/" + id + "/mean", builtin::exactText(mean)));
          SIE_CHECK(state.kv().put("fit/" + id + "/std", builtin::exactText(std::sqrt(var))));
        }
      }
      if (r < options.fit_rows) continue;
      label = table.rows[r][static_cast<std::size_t>(label_column)] != 0;
      ++result.rows;
      for (std::size_t s = 0; s < sensors.size(); ++s) {
        if (!triggering[s] || std::isnan(table.rows[r][sensors[s].first])) continue;
        Event event;
        event.subject = std::string(sensors[s].second.str());
        event.type = std::string(kTelemetryType);
        event.telemetry =
            Telemetry{sensors[s].second, table.ts_ns[r], {table.rows[r][sensors[s].first]}};
        const std::int64_t begin = monotonicNs();
        // Retries as the dispatcher would run them: after their delay.
        for (int failures = 0;; ++failures) {
          const Handled handled = runner.handle(event, failures);
          if (handled.done == 1) break;
          std::this_thread::sleep_for(handled.retry_after);
        }
        event_us.push_back(static_cast<double>(monotonicNs() - begin) / 1e3);
      }
    }
    file_score->hours =
        static_cast<double>(table.ts_ns.back() - table.ts_ns[options.fit_rows]) / 3.6e12;
    result.total.hours += file_score->hours;
  }
  result.median_event_us = median(std::move(event_us));
  return result;
}

}  // namespace sie::node
