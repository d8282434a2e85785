// Reading ONNX model files without running them: validation (a corrupt, truncated or hostile file
// is an error, never a crash), description (`sie model inspect`), and specialization of dynamic
// dimensions to fixed sizes, which backends such as OpenCV's DNN need.
#pragma once

#include "core/sha256.h"  // sha256Hex, the digest ModelInfo carries

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "sie/inference.h"
#include "sie/result.h"

namespace sie::onnx {

// Larger files are refused before parsing.
inline constexpr std::size_t kMaxModelBytes = 256u << 20;

// Parses and checks `bytes` (the ONNX checker, plus sanity of every initializer's size) and
// describes the model. Errors say what is wrong and where ("initializer 'fc.weight': ...").
Result<ModelInfo> inspectModel(std::span<const std::uint8_t> bytes);

// Rewrites the model so that its single input and every output have fixed shapes: each dynamic
// dimension of the input takes the value `dims` gives for its index (missing: error). Returns the
// serialized model.
Result<std::string> specializeInput(std::span<const std::uint8_t> bytes,
                                    const std::map<std::size_t, std::int64_t>& dims);

}  // namespace sie::onnx
