#include "runtime/rollout_policy.h"

#include <fmt/format.h>

namespace sie::node {

std::string_view strategyName(RolloutPolicy::Strategy strategy) {
  switch (strategy) {
    case RolloutPolicy::Strategy::kCanary:
      return "canary";
    case RolloutPolicy::Strategy::kShadow:
      return "shadow";
    case RolloutPolicy::Strategy::kBlueGreen:
      return "blue-green";
  }
  return "canary";
}

Result<RolloutPolicy::Strategy> parseStrategy(std::string_view name) {
  if (name == "canary") return RolloutPolicy::Strategy::kCanary;
  if (name == "shadow") return RolloutPolicy::Strategy::kShadow;
  if (name == "blue-green") return RolloutPolicy::Strategy::kBlueGreen;
  return fail(Errc::kInvalidArgument,
              fmt::format("strategy '{}' is not one of canary, shadow, blue-green", name),
              "strategy");
}

Status validate(const RolloutPolicy& p) {
  if (p.weight < 0 || p.weight > 100) {
    return fail(Errc::kInvalidArgument, fmt::format("weight must be 0-100 (got {})", p.weight),
                "weight");
  }
  if (!(p.max_error_rate >= 0 && p.max_error_rate <= 1)) {
    return fail(Errc::kInvalidArgument, "maxErrorRate must be between 0 and 1", "maxErrorRate");
  }
  if (!(p.max_p99_ms >= 0)) {
    return fail(Errc::kInvalidArgument, "maxLatencyMs must be >= 0 (0: no latency objective)",
                "maxLatencyMs");
  }
  if (p.min_invocations < 1) {
    return fail(Errc::kInvalidArgument, "minInvocations must be >= 1", "minInvocations");
  }
  return ok();
}

int stickyBucket(std::string_view sensor) {
  std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  for (const char c : sensor) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return static_cast<int>(hash % 100);
}

}  // namespace sie::node
