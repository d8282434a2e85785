#include "adapters/csv/csv_source.h"
#include "core/log.h"

#include <cmath>
#include <filesystem>

#include <fmt/format.h>

namespace sie::csv {
namespace {

using Type = ConfigKey::Type;

constexpr ConfigKey kKeys[] = {
    {"path", Type::kString, "", "the CSV file (relative to the working folder)", true},
    {"timeColumn", Type::kString, "",
     "time column name (default: a first column named datetime, timestamp, time or ts)"},
    {"prefix", Type::kString, "", "sensor id prefix (default csv/<file stem>)"},
    {"skip", Type::kStringList, "", "columns not replayed, e.g. [anomaly, changepoint]"},
    ConfigKey{"speed", Type::kDouble, "1",
              "recorded seconds per wall-clock second; 0 = as fast as possible"}
        .within(0, 1e6),
    {"startAtNow", Type::kBool, "true",
     "shift times so the first row is now (false: recorded times)"},
    {"loop", Type::kBool, "false", "start over after the last row"},
};

constexpr auto kRetry = std::chrono::milliseconds(10);

}  // namespace

CsvSource::CsvSource(std::string name, CsvSourceOptions options, Table table, const Clock& clock)
    : name_(std::move(name)),
      options_(std::move(options)),
      table_(std::move(table)),
      clock_(clock),
      readings_(metrics().counter("sie_source_readings_total",
                                  "Readings a source handed to the gateway and it accepted",
                                  {{"source", name_}})),
      refused_(metrics().counter("sie_source_refused_total",
                                 "Readings the gateway refused (overload); the source retries them",
                                 {{"source", name_}})) {
  const std::string prefix =
      options_.prefix.empty()
          ? "csv/" + columnId(std::filesystem::path(options_.path).stem().string())
          : options_.prefix;
  for (std::size_t c = 0; c < table_.columns.size(); ++c) {
    bool skipped = false;
    for (const auto& s : options_.skip)
      skipped = skipped || columnId(s) == columnId(table_.columns[c]);
    if (!skipped)
      sensors_.emplace_back(c, Symbol::intern(prefix + "/" + columnId(table_.columns[c])));
  }
}

CsvSource::~CsvSource() { stop(); }

Status CsvSource::start(Ingest& sink) {
  if (thread_.joinable())
    return fail(Errc::kInvalidArgument, fmt::format("source '{}' is already started", name_));
  Log("source", name_)
      .info("{} rows × {} sensors from {}, speed {}", table_.rows.size(), sensors_.size(),
            options_.path, options_.speed);
  thread_ = std::thread([this, &sink] { run(sink); });
  return ok();
}

void CsvSource::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool CsvSource::sleepUntil(std::int64_t wall_ns) {
  std::unique_lock lock(mu_);
  const auto wait =
      std::chrono::nanoseconds(std::max<std::int64_t>(0, wall_ns - clock_.monotonicNs()));
  wake_.wait_for(lock, wait, [this] { return stopping_.load(); });
  return !stopping_;
}

void CsvSource::run(Ingest& sink) {
  if (table_.rows.empty()) return;
  std::int64_t shift = options_.start_at_now ? clock_.nowNs() - table_.ts_ns.front() : 0;
  const std::int64_t wall_start = clock_.monotonicNs();
  std::int64_t pass_start_wall = wall_start;
  while (!stopping_) {
    for (std::size_t r = 0; r < table_.rows.size() && !stopping_; ++r) {
      if (options_.speed > 0) {
        const double offset =
            static_cast<double>(table_.ts_ns[r] - table_.ts_ns.front()) / options_.speed;
        if (!sleepUntil(pass_start_wall + static_cast<std::int64_t>(offset))) return;
      }
      for (const auto& [column, sensor] : sensors_) {
        const double v = table_.rows[r][column];
        if (std::isnan(v)) continue;  // an empty cell: no reading
        Telemetry reading;
        reading.sensor = sensor;
        reading.ts_ns = table_.ts_ns[r] + shift;
        reading.values = {v};
        while (!sink.ingest(reading, name_)) {  // refused (overload): offered again, in order
          refused_.inc();
          if (!sleepUntil(clock_.monotonicNs() + kRetry.count() * 1'000'000)) return;
        }
        readings_.inc();
      }
    }
    if (!options_.loop) break;
    // The next pass continues the timeline one row interval after the last row.
    const std::int64_t span = table_.ts_ns.back() - table_.ts_ns.front();
    const std::int64_t step = table_.rows.size() > 1
                                  ? span / static_cast<std::int64_t>(table_.rows.size() - 1)
                                  : 1'000'000'000;
    shift += span + step;
    pass_start_wall = options_.speed > 0
                          ? pass_start_wall + static_cast<std::int64_t>(
                                                  static_cast<double>(span + step) / options_.speed)
                          : clock_.monotonicNs();
  }
  Log("source", name_).info("replay finished ({} readings)", readings_.value());
}

Status registerPlugin(Plugins& plugins) {
  SourcePlugin plugin;
  plugin.description = "replays a timestamped CSV file (recorded plant data)";
  plugin.keys.assign(std::begin(kKeys), std::end(kKeys));
  plugin.make = [](const std::string& name,
                   const ConfigValues& config) -> Result<std::unique_ptr<Source>> {
    CsvSourceOptions o;
    o.path = config.str("path");
    o.time_column = config.str("timeColumn");
    o.prefix = config.str("prefix");
    o.skip = config.list("skip");
    o.speed = config.number("speed");
    o.start_at_now = config.flag("startAtNow");
    o.loop = config.flag("loop");
    ReadOptions read;
    read.time_column = o.time_column;
    auto table = readTable(o.path, read);
    if (!table) {
      Error e = table.error();
      e.message = fmt::format("source '{}': {}", name, e.message);
      return tl::unexpected(e);
    }
    for (const auto& s : o.skip) {
      if (findColumn(*table, s) < 0)
        return config.invalid(fmt::format("skip: no column '{}' in {}", s, o.path));
    }
    return std::make_unique<CsvSource>(name, std::move(o), std::move(*table));
  };
  return plugins.sources.add("csv", std::move(plugin));
}

}  // namespace sie::csv
