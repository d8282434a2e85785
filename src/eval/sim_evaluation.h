// Detection quality of a site's functions against the plant simulator's labelled faults. The
// simulator runs as fast as the functions allow (no wall clock); every reading is recorded in a
// scratch state store and dispatched to the functions it triggers, in time order, and each
// decision is compared with the ground truth: a decision on a sensor is truly positive when, at the
// reading's timestamp, a fault changes that sensor's readings or a process fault (leak, overload,
// bearing) affects its asset. Other channels a model reads are inputs, not targets: a sensor fault
// on the airflow of a zone is not a miss of the zone-temperature function.
// Readings go to the functions as the simulator made them: the site's gateway filters are not
// applied.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/site_config.h"
#include "eval/function_score.h"
#include "sie/plugins.h"

namespace sie::node {

struct EvalOptions {
  std::uint64_t seed = 1;
  std::optional<double> fault_rate;     // faults per asset per hour; default: the site's sim source
  std::chrono::seconds duration{3600};  // scored
  // Simulated first and not scored: the functions' windows fill as on a node that has been
  // running, so long-window models are judged on what they decide, not on their cold start.
  std::chrono::seconds warmup{0};
  // Next to each function that is not a builtin, a builtin z-score on the same triggers (window
  // 120, threshold 5, 30 readings before it scores), scored on the same data.
  bool baseline = true;
  std::string scratch_dir;  // state for the run; removed afterwards
};

Result<std::vector<FunctionScore>> evaluateOnSimulator(const SiteConfig& site,
                                                       const Plugins& plugins,
                                                       const EvalOptions& options);

}  // namespace sie::node
