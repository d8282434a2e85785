#include "exec/builtin/readings.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

namespace sie::builtin {

double readingValue(std::span<const double> values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

bool allFinite(std::span<const double> values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

Output decide(double score, bool anomaly, std::string_view label, std::string detail) {
  // Decisions travel as JSON, which has no infinity: an overflowing score saturates.
  if (!std::isfinite(score)) score = std::numeric_limits<double>::max();
  Output out;
  out.decision = Decision{score, anomaly, std::string(label), std::move(detail)};
  return out;
}

Output notScored(std::string_view label, std::string detail) {
  return decide(0.0, false, label, std::move(detail));
}

std::string exactText(double v) { return fmt::format("{}", v); }

}  // namespace sie::builtin
