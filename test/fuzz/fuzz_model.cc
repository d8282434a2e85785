// libFuzzer target: the model loader (ONNX bytes → checked description → specialized model → one
// OpenCV import and trial run). A hostile or mutated file must give an error, never a crash.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "exec/onnx/model_info.h"
#include "exec/onnx/opencv_backend.h"
#include "exec/onnx/trial_run.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto backend = sie::onnx::makeOpenCvBackend();
  const std::span bytes(data, size);
  auto info = sie::onnx::inspectModel(bytes);
  if (!info) {
    if (info.error().message.empty()) std::abort();  // every refusal says why
    return 0;
  }
  if (info->sha256.size() != 64 || info->inputs.empty() || info->outputs.empty()) std::abort();
  if (!backend->supports(*info) || info->inputs.size() != 1) return 0;
  std::map<std::size_t, std::int64_t> ones;
  for (std::size_t d = 0; d < info->inputs[0].shape.size(); ++d) ones[d] = 1;
  auto fixed = sie::onnx::specializeInput(bytes, ones);
  if (!fixed) return 0;
  const std::span model(reinterpret_cast<const std::uint8_t*>(fixed->data()), fixed->size());
  auto fixed_info = sie::onnx::inspectModel(model);
  if (!fixed_info) return 0;
  (void)sie::onnx::trialRun(*backend, model, *fixed_info);
  return 0;
}
