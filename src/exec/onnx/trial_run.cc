#include "exec/onnx/trial_run.h"

#include <fmt/format.h>

namespace sie::onnx {

Result<std::vector<Tensor>> trialRun(InferenceBackend& backend, std::span<const std::uint8_t> model,
                                     const ModelInfo& info) {
  if (info.inputs.size() != 1) {
    return fail(Errc::kUnsupported, fmt::format("the model has {} inputs; one is supported",
                                                info.inputs.size()));
  }
  Tensor zeros;
  zeros.shape = info.inputs[0].shape;
  std::size_t count = 1;
  for (const auto dim : zeros.shape) {
    if (dim < 1 || dim > (1 << 24)) {
      return fail(Errc::kUnsupported,
                  fmt::format("input '{}' has a dynamic or implausible dimension ({})",
                              info.inputs[0].name, dim));
    }
    count *= static_cast<std::size_t>(dim);
    if (count > (1u << 26)) return fail(Errc::kUnsupported, "the model's input is over 64 M values");
  }
  zeros.data.assign(count, 0.0F);
  auto session = SIE_TRY(backend.load(model, info));
  return session->run(zeros);
}

}  // namespace sie::onnx
