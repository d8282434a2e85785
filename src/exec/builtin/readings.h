// Helpers shared by the builtin handlers: reading values, usable window samples, decisions.
#pragma once

#include <cmath>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sie/function.h"

namespace sie::builtin {

inline constexpr std::string_view kNormal = "normal";
inline constexpr std::string_view kWarmingUp = "warming-up";
inline constexpr std::string_view kBadQuality = "bad-quality";
inline constexpr std::string_view kInvalidValue = "invalid-value";

// The value a scalar handler scores: the mean of the reading's values (a block counts as its
// mean). The caller guarantees at least one value.
double readingValue(std::span<const double> values);

// A window sample's value when it can serve as history: not of bad quality, at least one value,
// and a finite mean. Unusable samples are skipped by every handler. Inline: it runs once per
// window sample.
inline std::optional<double> usableValue(const Sample& sample) {
  if (sample.quality == Quality::kBad || sample.values.empty()) return std::nullopt;
  const double v = sample.values.size() == 1 ? sample.values[0] : readingValue(sample.view());
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

bool allFinite(std::span<const double> values);

// An Output carrying only a decision. A score that overflowed to infinity becomes the largest
// finite double.
Output decide(double score, bool anomaly, std::string_view label, std::string detail);

// A decision that was not scored (bad quality, warming up, ...): score 0, never an anomaly.
Output notScored(std::string_view label, std::string detail);

// The shortest decimal text that reads back as exactly `v` ("0.1", "1e-07", "42").
std::string exactText(double v);

}  // namespace sie::builtin
