// One inference on zeros: what a backend finds only when it runs a model (shape mismatches inside
// the graph, unsupported attribute combinations) surfaces at deploy or inspect time.
#pragma once

#include <span>
#include <vector>

#include "sie/inference.h"

namespace sie::onnx {

// `model` must have fixed shapes (see specializeInput); `info` describes it.
Result<std::vector<Tensor>> trialRun(InferenceBackend& backend, std::span<const std::uint8_t> model,
                                     const ModelInfo& info);

}  // namespace sie::onnx
