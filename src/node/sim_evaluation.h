// Detection quality of a site's functions against the plant simulator's labelled faults. The
// simulator runs as fast as the functions allow (no wall clock); every reading is recorded in a
// scratch state store and dispatched to the functions it triggers, in time order, and each
// decision is compared with the ground truth: a decision is truly positive when a fault is active,
// at the reading's timestamp, on a sensor the function reads (its trigger or a window binding).
// Readings go to the functions as the simulator made them: the site's gateway filters are not
// applied.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "node/site_config.h"
#include "sie/plugins.h"

namespace sie::node {

struct EvalOptions {
  std::uint64_t seed = 1;
  std::chrono::seconds duration{3600};
  // Next to each function that is not a builtin, a builtin z-score on the same triggers (window
  // 120, threshold 5, 30 readings before it scores), scored on the same data.
  bool baseline = true;
  std::string scratch_dir;  // state for the run; removed afterwards
};

struct FunctionScore {
  std::string function;     // name@version
  std::string baseline_of;  // for a baseline row: the function it is the baseline of
  std::uint64_t decisions = 0;
  std::uint64_t not_scored = 0;  // warming up, bad quality, invalid value (counted as normal)
  std::uint64_t tp = 0, fp = 0, fn = 0, tn = 0;
  std::uint64_t false_alarms = 0;  // runs of false positives on one sensor, each counted once
  std::uint64_t faults = 0;        // faults on sensors the function read
  std::uint64_t detected = 0;      // of those, with at least one true positive
  double median_delay_s = 0.0;     // fault start to the first true positive, over detected faults
  double hours = 0.0;              // simulated

  [[nodiscard]] double precision() const;
  [[nodiscard]] double recall() const;
  [[nodiscard]] double f1() const;
  [[nodiscard]] double falseAlarmsPerHour() const;
};

Result<std::vector<FunctionScore>> evaluateOnSimulator(const SiteConfig& site,
                                                       const Plugins& plugins,
                                                       const EvalOptions& options);

}  // namespace sie::node
