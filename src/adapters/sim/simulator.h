// The plant simulator: deterministic (for a seed) sensor signals of five domains (power grid, HVAC,
// rotating assets, data center, water network) with injected, labelled faults. It feeds the node
// live (SimSource), writes training and scoring data (exportCsv) and is the ground truth that
// detections are scored against.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sie/event.h"
#include "sie/result.h"

namespace sie::sim {

// 2026-01-01T00:00:00Z: the simulated start when SimOptions::start_ns is 0.
inline constexpr std::int64_t kDefaultStartNs = 1'767'225'600LL * 1'000'000'000LL;

struct SimOptions {
  std::uint64_t seed = 42;
  // Any of "grid", "hvac", "rotating", "datacenter", "water".
  std::vector<std::string> domains = {"grid", "hvac", "rotating", "datacenter", "water"};
  // 0 = each domain's default: 3 feeders, 4 zones, 2 pumps, 2 racks (4 servers each), 3 districts.
  int assets_per_domain = 0;
  // Mean number of faults per asset per hour (Poisson arrivals); 0 = no faults.
  double faults_per_asset_hour = 6;
  // Simulated start time, Unix epoch ns; 0 = kDefaultStartNs.
  std::int64_t start_ns = 0;
  int vibration_rate_hz = 2000;  // pump acceleration sample rate
  int vibration_block = 256;     // samples per vibration reading
};

// One injected fault: the ground truth. Active for start_ns <= ts < end_ns.
struct FaultInterval {
  std::string kind;  // spike, drift, step, oscillation, stuck, leak, overload, bearing
  std::string domain;
  std::string asset;
  std::vector<std::string> sensors;  // the sensor ids whose readings it changes
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  // Sensor faults: the offset in sensor units (drift: the offset reached at the end; oscillation:
  // the amplitude; stuck: 0). Leak: m3/h lost; overload: fraction of extra power; bearing: impact
  // amplitude in g.
  double magnitude = 0.0;
};

struct SensorInfo {
  std::string id;  // "<domain>/<asset>/<signal>"
  std::string domain;
  std::string asset;
  std::string signal;
  std::string unit;
  double nominal_min = 0.0;  // the band normal operation stays in
  double nominal_max = 0.0;
  double rate_hz = 0.0;  // samples per second
  bool block = false;    // readings carry blocks of samples (Telemetry::sample_period_ns > 0)
};

// The domain names in their default order.
const std::vector<std::string>& knownDomains();

// Checks options; the message names the offending field and the accepted values.
Status validateOptions(const SimOptions& options);

// Not thread-safe: one thread drives a simulator.
class Simulator {
 public:
  // `options` must pass validateOptions().
  explicit Simulator(SimOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Appends every reading with ts in (now(), until_ns] in time order and moves now() to until_ns.
  // Vibration blocks are stamped with their first sample.
  void advance(std::int64_t until_ns, std::vector<Telemetry>& out);
  [[nodiscard]] std::int64_t now() const;
  [[nodiscard]] const SimOptions& options() const;

  // Ground truth sorted by start. Faults are drawn an hour ahead of now(), so every fault that
  // can touch the readings of the next advance() is already here.
  [[nodiscard]] const std::vector<FaultInterval>& faults() const;
  [[nodiscard]] const std::vector<SensorInfo>& sensors() const;
  // The fault active on `sensor` at ts_ns, or nullptr. Valid until the next advance().
  [[nodiscard]] const FaultInterval* faultAt(std::string_view sensor, std::int64_t ts_ns) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sie::sim
