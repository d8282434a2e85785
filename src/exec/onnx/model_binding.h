// How the onnx runtime turns windows into a model input and the model's output into a decision:
// the manifest's spec.model block, which this runtime declares and reads (modelSchema()). Unset
// fields come from the model's metadata_props (sie.window, sie.mean, ...).
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sie/function.h"

namespace sie::onnx {

struct ModelBinding {
  std::vector<std::string> channels;  // window input names in the model's channel order
  std::size_t window = 0;             // readings (or block samples) per channel; 0 = sie.window
  std::chrono::nanoseconds hop{0};    // decide at most once per hop of trigger time; 0 = each
  // A regular timeline, one point per `resample` ending at the trigger, instead of the trigger's
  // own readings; every channel is sampled at its points (held, or `linear` between readings).
  std::chrono::nanoseconds resample{0};
  bool linear = false;
  std::vector<double> mean, std;  // per channel: x' = (x - mean) / std
  std::vector<double> min, max;   // or per channel: x' = (x - min) / (max - min)
  // "fit": per-asset statistics from the KV store (fit/<sensor>/mean and .../std, written by a
  // calibration such as `sie eval --fit-rows`), read through kv inputs "<channel>.mean" and
  // "<channel>.std" the schema adds; the statistics above (or the model's) are the fallback
  // while a sensor has none.
  bool fit = false;
  std::string score;                  // probability | reconstruction | residual; "" = sie.score
  std::optional<double> threshold;    // anomaly when score >= threshold
  std::optional<double> error_scale;  // reconstruction/residual: error at score 0.5
  std::vector<std::string> labels;    // class names of a probabilities output, class 0 = normal
};

// The function's spec.model, or null when its manifest has none.
inline const ModelBinding* modelBinding(const FunctionSpec& spec) {
  return std::any_cast<ModelBinding>(&spec.settings);
}

// spec.model.hop: a reading at ts_ns is decided on only when it is the first of its hop interval,
// i.e. the trigger's previous reading (at prev_ns) fell in an earlier one.
inline bool inSameHop(std::chrono::nanoseconds hop, std::int64_t prev_ns, std::int64_t ts_ns) {
  return hop.count() > 0 && prev_ns / hop.count() == ts_ns / hop.count();
}

// The spec.model block: its keys and how they become a ModelBinding.
const RuntimeSchema& modelSchema();

}  // namespace sie::onnx
