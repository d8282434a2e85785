#include "adapters/sim/csv_export.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "adapters/sim/signals.h"

namespace sie::sim {
namespace {

constexpr std::size_t kFlushBytes = 1 << 20;

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Buffered writes to one file; errors name the path.
class CsvFile {
 public:
  static Result<CsvFile> create(const std::string& path) {
    File file(std::fopen(path.c_str(), "wb"));
    if (!file) return fail(Errc::kIo, fmt::format("cannot write: {}", std::strerror(errno)), path);
    return CsvFile(path, std::move(file));
  }

  fmt::memory_buffer& buffer() { return buffer_; }

  Status flushIfFull() { return buffer_.size() >= kFlushBytes ? flush() : ok(); }

  Status close() {
    SIE_CHECK(flush());
    if (std::fclose(file_.release()) != 0) {
      return fail(Errc::kIo, fmt::format("cannot write: {}", std::strerror(errno)), path_);
    }
    return ok();
  }

 private:
  CsvFile(std::string path, File file) : path_(std::move(path)), file_(std::move(file)) {}

  Status flush() {
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_.get()) != buffer_.size()) {
      return fail(Errc::kIo, fmt::format("cannot write: {}", std::strerror(errno)), path_);
    }
    buffer_.clear();
    return ok();
  }

  std::string path_;
  File file_;
  fmt::memory_buffer buffer_;
};

}  // namespace

std::string faultsPathFor(const std::string& path) {
  const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  return (csv ? path.substr(0, path.size() - 4) : path) + ".faults.csv";
}

Result<std::size_t> exportCsv(const SimOptions& options, std::chrono::seconds duration,
                              const std::string& path, ExportSummary* summary) {
  SIE_CHECK(validateOptions(options));
  if (duration.count() <= 0) {
    return fail(Errc::kInvalidArgument,
                fmt::format("duration must be positive (got {}s)", duration.count()));
  }
  const std::string faults_path = faultsPathFor(path);
  CsvFile readings = SIE_TRY(CsvFile::create(path));
  CsvFile truth = SIE_TRY(CsvFile::create(faults_path));

  Simulator sim(options);
  const std::int64_t end_ns = sim.now() + duration.count() * kNsPerSecond;
  fmt::format_to(std::back_inserter(readings.buffer()), "ts_ns,sensor,value,fault\n");
  std::size_t rows = 0;
  std::vector<Telemetry> batch;
  while (sim.now() < end_ns) {
    batch.clear();
    sim.advance(std::min(end_ns, sim.now() + kNsPerSecond), batch);
    for (const Telemetry& reading : batch) {
      const std::string_view id = reading.sensor.str();
      for (std::size_t i = 0; i < reading.values.size(); ++i) {
        const std::int64_t ts =
            reading.ts_ns + static_cast<std::int64_t>(i) * reading.sample_period_ns;
        if (ts > end_ns) break;  // the tail of the last vibration block
        const FaultInterval* fault = sim.faultAt(id, ts);
        fmt::format_to(std::back_inserter(readings.buffer()), "{},{},{:.7g},{}\n", ts, id,
                       reading.values[i], fault ? std::string_view(fault->kind) : "");
        ++rows;
      }
    }
    SIE_CHECK(readings.flushIfFull());
  }
  SIE_CHECK(readings.close());

  std::vector<FaultInterval> written;
  fmt::format_to(std::back_inserter(truth.buffer()),
                 "kind,domain,asset,sensors,start_ns,end_ns,magnitude\n");
  for (const FaultInterval& fault : sim.faults()) {
    if (fault.start_ns > end_ns) break;  // sorted by start
    fmt::format_to(std::back_inserter(truth.buffer()), "{},{},{},{},{},{},{:.6g}\n", fault.kind,
                   fault.domain, fault.asset, fmt::join(fault.sensors, ";"), fault.start_ns,
                   fault.end_ns, fault.magnitude);
    written.push_back(fault);
  }
  SIE_CHECK(truth.close());

  if (summary != nullptr) {
    summary->rows = rows;
    summary->sensors = sim.sensors().size();
    summary->faults = std::move(written);
    summary->readings_path = path;
    summary->faults_path = faults_path;
  }
  return rows;
}

}  // namespace sie::sim
