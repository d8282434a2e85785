// Simulated data as CSV files, for training detectors offline and scoring them against the truth.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "adapters/sim/simulator.h"
#include "sie/result.h"

namespace sie::sim {

struct ExportSummary {
  std::size_t rows = 0;
  std::size_t sensors = 0;
  std::vector<FaultInterval> faults;  // as written
  std::string readings_path;
  std::string faults_path;
};

// "<path minus .csv>.faults.csv".
std::string faultsPathFor(const std::string& path);

// Simulates `duration` from the options' start and writes one row per sample to `path` (header
// `ts_ns,sensor,value,fault`; vibration blocks expanded per sample; fault = the active fault's kind
// or empty), and the ground truth to faultsPathFor(path) (header
// `kind,domain,asset,sensors,start_ns,end_ns,magnitude`, sensors joined by ';'; every fault that
// starts by the end, unclipped). Returns the number of reading rows; fills `summary` when given.
Result<std::size_t> exportCsv(const SimOptions& options, std::chrono::seconds duration,
                              const std::string& path, ExportSummary* summary = nullptr);

}  // namespace sie::sim
