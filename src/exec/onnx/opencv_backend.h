// The default inference backend: OpenCV's DNN module (Debian's libopencv-dnn), CPU only. It runs
// MLP and convolution models; LSTMs only with fixed shapes; not the ai.onnx.ml domain.
#pragma once

#include <memory>

#include "sie/inference.h"

namespace sie::onnx {

std::unique_ptr<InferenceBackend> makeOpenCvBackend();

}  // namespace sie::onnx
