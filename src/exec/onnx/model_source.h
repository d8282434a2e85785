// Where the onnx runtime finds a function's model file: on disk, relative to the manifest, or
// among the models compiled into the binary (models/*.onnx, for the built-in demo site), under
// the same project-relative path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sie/function.h"
#include "sie/result.h"

namespace sie::onnx {

struct ModelFile {
  std::string path;  // as resolved, for messages
  std::vector<std::uint8_t> bytes;
};

Result<ModelFile> readModelFile(const std::string& path);

// spec.handler resolved against spec.base_dir; falls back to the compiled-in models.
Result<ModelFile> findModel(const FunctionSpec& spec);

}  // namespace sie::onnx
