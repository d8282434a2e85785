// libFuzzer target: the Function manifest loader (YAML → validated FunctionSpec).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/function_manifest.h"
#include "exec/onnx/model_binding.h"
#include "exec/process/process_binding.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sie::node::SourceText file{"fuzz.yaml",
                                   std::string(reinterpret_cast<const char*>(data), size)};
  // The blocks of the runtimes that have one, as a node reads them.
  static const sie::node::RuntimeSchemas kRuntimes{{"onnx", sie::onnx::modelSchema()},
                                                   {"process", sie::process::processSchema()}};
  auto specs = sie::node::parseManifests(file, kRuntimes);
  if (!specs) {
    // Every refusal says where and what.
    if (specs.error().where.empty() || specs.error().message.empty()) std::abort();
    return 0;
  }
  for (const auto& spec : *specs) {
    if (spec.name.empty() || spec.triggers.empty() || spec.scaling.max < spec.scaling.min)
      std::abort();
  }
  return 0;
}
