// Post-processing of the onnx runtime: a model's output row becomes an anomaly score in [0, 1], a
// label and a decision.
//   probability     [1] sigmoid output: the score; or [K] class probabilities (softmax applied
//                   when the outputs are not probabilities), class 0 normal: score = 1 - p0
//   reconstruction  output shaped like the input: err = mean squared difference,
//                   score = err / (err + errorScale)
//   residual        one forecast per channel: r = RMS of (forecast - actual),
//                   score = r / (r + errorScale)
#pragma once

#include <span>
#include <string>
#include <vector>

#include "sie/function.h"
#include "sie/result.h"

namespace sie::onnx {

enum class ScoreMode { kProbability, kReconstruction, kResidual };

struct ScorePlan {
  ScoreMode mode = ScoreMode::kProbability;
  double threshold = 0.5;
  double error_scale = 1.0;
  std::vector<std::string> labels;  // probability with K classes: names, normal first
};

Result<ScoreMode> parseScoreMode(std::string_view text);
std::string_view scoreModeName(ScoreMode mode);

// How many output values per row the plan expects for an input row of `input_size` values and
// `channels` channels; 0 = 1 or more (probability).
std::size_t expectedOutputs(ScoreMode mode, std::size_t input_size, std::size_t channels);

// `input` is the normalized input row, `target` the residual targets, `output` the model's row.
Result<Decision> scoreRow(const ScorePlan& plan, std::span<const float> input,
                          std::span<const float> target, std::span<const float> output);

}  // namespace sie::onnx
