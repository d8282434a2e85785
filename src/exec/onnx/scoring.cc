#include "exec/onnx/scoring.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace sie::onnx {
namespace {

double meanSquared(std::span<const float> a, std::span<const float> b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    sum += d * d;
  }
  return sum / static_cast<double>(a.size());
}

bool areProbabilities(std::span<const float> v) {
  double sum = 0;
  for (float p : v) {
    if (p < 0.0F || p > 1.0F) return false;
    sum += p;
  }
  return std::abs(sum - 1.0) < 1e-3;
}

std::vector<double> softmax(std::span<const float> v) {
  const float top = *std::max_element(v.begin(), v.end());
  std::vector<double> p(v.size());
  double sum = 0;
  for (std::size_t i = 0; i < v.size(); ++i) sum += p[i] = std::exp(static_cast<double>(v[i] - top));
  for (double& x : p) x /= sum;
  return p;
}

Decision decision(const ScorePlan& plan, double score, std::string label, std::string detail) {
  Decision d;
  d.score = std::clamp(score, 0.0, 1.0);
  d.anomaly = d.score >= plan.threshold;
  d.label = label.empty() ? (d.anomaly ? "anomaly" : "normal") : std::move(label);
  d.detail = std::move(detail);
  return d;
}

}  // namespace

Result<ScoreMode> parseScoreMode(std::string_view text) {
  if (text == "probability") return ScoreMode::kProbability;
  if (text == "reconstruction") return ScoreMode::kReconstruction;
  if (text == "residual") return ScoreMode::kResidual;
  return fail(Errc::kInvalidArgument,
              fmt::format("score must be probability, reconstruction or residual (got '{}')", text));
}

std::string_view scoreModeName(ScoreMode mode) {
  switch (mode) {
    case ScoreMode::kProbability: return "probability";
    case ScoreMode::kReconstruction: return "reconstruction";
    case ScoreMode::kResidual: return "residual";
  }
  return "?";
}

std::size_t expectedOutputs(ScoreMode mode, std::size_t input_size, std::size_t channels) {
  switch (mode) {
    case ScoreMode::kProbability: return 0;
    case ScoreMode::kReconstruction: return input_size;
    case ScoreMode::kResidual: return channels;
  }
  return 0;
}

Result<Decision> scoreRow(const ScorePlan& plan, std::span<const float> input,
                          std::span<const float> target, std::span<const float> output) {
  if (output.empty()) return fail(Errc::kInvalidArgument, "the model returned no values");
  for (float v : output) {
    if (!std::isfinite(v)) return fail(Errc::kInvalidArgument, "the model returned NaN or infinity");
  }
  switch (plan.mode) {
    case ScoreMode::kProbability: {
      if (output.size() == 1) {
        return decision(plan, output[0], "", fmt::format("p(anomaly) {:.3f}", output[0]));
      }
      const std::vector<double> p = areProbabilities(output)
                                        ? std::vector<double>(output.begin(), output.end())
                                        : softmax(output);
      const auto top = static_cast<std::size_t>(std::max_element(p.begin(), p.end()) - p.begin());
      std::string label;
      if (top < plan.labels.size()) label = plan.labels[top];
      else if (top > 0) label = fmt::format("class-{}", top);
      return decision(plan, 1.0 - p[0], label,
                      fmt::format("p(normal) {:.3f}, top class {} p {:.3f}", p[0], top, p[top]));
    }
    case ScoreMode::kReconstruction: {
      if (output.size() != input.size()) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("reconstruction has {} values for an input of {}", output.size(),
                                input.size()));
      }
      const double err = meanSquared(output, input);
      return decision(plan, err / (err + plan.error_scale), "",
                      fmt::format("reconstruction error {:.4g} (scale {:.4g})", err,
                                  plan.error_scale));
    }
    case ScoreMode::kResidual: {
      if (output.size() != target.size()) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("forecast has {} values for {} channels", output.size(),
                                target.size()));
      }
      const double r = std::sqrt(meanSquared(output, target));
      return decision(plan, r / (r + plan.error_scale), "",
                      fmt::format("forecast residual {:.4g} (scale {:.4g})", r, plan.error_scale));
    }
  }
  return fail(Errc::kInternal, "unknown score mode");
}

}  // namespace sie::onnx
