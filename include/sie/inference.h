// Inference backends: load a model into a session and run batches on it. The onnx runtime talks to
// models only through this interface, so backends can be added next to the default one (OpenCV's
// DNN module on the CPU).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sie/result.h"

namespace sie {

// A model input or output as the model file declares it. A dimension of -1 is dynamic (a named
// dim_param or none); `dim_names` keeps the names ("batch") where the file gives them.
struct TensorInfo {
  std::string name;
  std::string type;  // "float32", "int64", ...
  std::vector<std::int64_t> shape;
  std::vector<std::string> dim_names;
};

// What a model file holds, read without running it.
struct ModelInfo {
  std::string sha256;  // hex, of the file's bytes: the model's identity in the store
  std::size_t size = 0;
  std::int64_t ir_version = 0;
  std::int64_t model_version = 0;
  std::string producer;  // "pytorch 1.13.1"
  std::string doc;
  std::map<std::string, std::int64_t> opsets;  // domain ("" = ai.onnx) -> version
  std::vector<TensorInfo> inputs;               // graph inputs that are not initializers
  std::vector<TensorInfo> outputs;
  std::map<std::string, int> operators;  // "domain:op" or "op" -> node count
  std::size_t nodes = 0;
  std::size_t parameters = 0;  // elements in initializers
  std::map<std::string, std::string> metadata;  // metadata_props
};

// A dense float32 tensor, row-major.
struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

// One loaded model. Not thread-safe: a session serves one invocation at a time (the node pools
// sessions like any other function instance).
class InferenceSession {
 public:
  virtual ~InferenceSession() = default;
  // Runs the model's single input on `input` (shape [batch, ...]); returns the model's outputs in
  // their declared order.
  virtual Result<std::vector<Tensor>> run(const Tensor& input) = 0;
};

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  // Deploy-time check: fails naming the first operator (and its node) the model uses that this
  // backend cannot run.
  // (Shape and attribute errors the backend finds while importing come from load().)
  [[nodiscard]] virtual Status supports(const ModelInfo& info) const = 0;
  // `model` holds fixed shapes only (dynamic dimensions specialized beforehand); `info` is its
  // description (outputs are returned in info.outputs order).
  virtual Result<std::unique_ptr<InferenceSession>> load(std::span<const std::uint8_t> model,
                                                         const ModelInfo& info) = 0;
};

}  // namespace sie
