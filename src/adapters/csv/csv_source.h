// CsvSource: recorded plant data replayed into a node, as fast as the node takes it (speed 0) or
// at the recorded pace times `speed`. Each value column becomes the sensor <prefix>/<column id>;
// rows with the same time arrive together. Registered as source type "csv".
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "adapters/csv/csv_table.h"
#include "sie/clock.h"
#include "sie/metrics.h"
#include "sie/plugins.h"
#include "sie/source.h"

namespace sie::csv {

struct CsvSourceOptions {
  std::string path;
  std::string time_column;       // "" = detected
  std::string prefix;            // sensor id prefix; "" = csv/<file stem>
  std::vector<std::string> skip;  // columns not replayed (labels, ...)
  double speed = 1.0;            // 0 = as fast as possible
  bool start_at_now = true;      // shift times so the first row is the wall clock at start
  bool loop = false;             // start over at the end
};

class CsvSource final : public Source {
 public:
  CsvSource(std::string name, CsvSourceOptions options, Table table,
            const Clock& clock = systemClock());
  ~CsvSource() override;

  [[nodiscard]] const std::string& name() const override { return name_; }
  Status start(Ingest& sink) override;
  void stop() override;

 private:
  void run(Ingest& sink);
  // Waits until `wall_ns` (monotonic) or stop; returns false when stopping.
  bool sleepUntil(std::int64_t wall_ns);

  std::string name_;
  CsvSourceOptions options_;
  Table table_;
  std::vector<std::pair<std::size_t, Symbol>> sensors_;  // column index, sensor id
  const Clock& clock_;
  Counter& readings_;
  Counter& refused_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

Status registerPlugin(Plugins& plugins);

}  // namespace sie::csv
