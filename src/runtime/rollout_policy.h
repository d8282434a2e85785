// How a candidate version shares a function's traffic with the serving one (rollouts):
//   canary      a weighted share of the sensors (sticky: a sensor's events, and so its windows,
//               stay with one version); a canary invocation that fails is handed to the serving
//               version, so callers see no failure while the objectives decide
//   shadow      every event is mirrored to the candidate, whose decisions are compared and never
//               acted on
//   blue-green  the candidate is deployed and warm but sees nothing until promoted (an instant
//               switch)
// The candidate is rolled back automatically when, after min_invocations, its failure rate or
// its p99 latency breaches the objective.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sie/result.h"

namespace sie::node {

struct RolloutPolicy {
  enum class Strategy { kCanary, kShadow, kBlueGreen };
  Strategy strategy = Strategy::kCanary;
  int weight = 10;               // canary: percent of sensors, 0-100
  double max_error_rate = 0.05;  // failed candidate invocations / all
  double max_p99_ms = 0;         // 0: no latency objective
  std::uint64_t min_invocations = 20;
};

std::string_view strategyName(RolloutPolicy::Strategy strategy);
Result<RolloutPolicy::Strategy> parseStrategy(std::string_view name);
// Checks the bounds (weight 0-100, rates 0-1, ...); the error names the field.
Status validate(const RolloutPolicy& policy);

// The canary share a sensor falls in, 0-99, the same on every node and across restarts.
int stickyBucket(std::string_view sensor);

}  // namespace sie::node
