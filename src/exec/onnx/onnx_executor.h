// The onnx runtime: a function is an ONNX model plus declarative pre-processing (which windows,
// normalization) and post-processing (score, threshold) from spec.model and the model's
// metadata_props. Everything is checked at deploy time (validate): the model file, its operators
// against the backend, the channel and window bindings against the model's input shape, and one
// trial inference; the first event never finds a broken model.
#pragma once

#include <memory>

#include "sie/function.h"
#include "sie/inference.h"

namespace sie::onnx {

std::shared_ptr<Executor> makeExecutor(std::unique_ptr<InferenceBackend> backend);

// The default: OpenCV's DNN module.
std::shared_ptr<Executor> makeExecutor();

}  // namespace sie::onnx
