// `sie model inspect FILE`: what an ONNX model file holds (identity, inputs, outputs, operators,
// metadata) and whether the node's inference backend can run it, without deploying it.
#include <iostream>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "exec/onnx/model_info.h"
#include "exec/onnx/model_source.h"
#include "exec/onnx/opencv_backend.h"
#include "exec/onnx/trial_run.h"

namespace sie::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUnsupported = 1;
constexpr int kExitInvalid = 2;

struct InspectOptions {
  std::string file;
  bool json = false;
};

std::string shapeText(const TensorInfo& t) {
  std::vector<std::string> dims;
  for (std::size_t i = 0; i < t.shape.size(); ++i) {
    if (t.shape[i] >= 0)
      dims.push_back(std::to_string(t.shape[i]));
    else
      dims.push_back(t.dim_names[i].empty() ? "?" : t.dim_names[i]);
  }
  return fmt::format("{} {} [{}]", t.name, t.type, fmt::join(dims, ", "));
}

nlohmann::ordered_json tensorJson(const TensorInfo& t) {
  return {{"name", t.name}, {"type", t.type}, {"shape", t.shape}, {"dimNames", t.dim_names}};
}

nlohmann::ordered_json infoJson(const ModelInfo& m, const Status& backend) {
  nlohmann::ordered_json j;
  j["sha256"] = m.sha256;
  j["size"] = m.size;
  j["irVersion"] = m.ir_version;
  j["modelVersion"] = m.model_version;
  j["producer"] = m.producer;
  j["opsets"] = nlohmann::ordered_json::object();
  for (const auto& [domain, version] : m.opsets)
    j["opsets"][domain.empty() ? "ai.onnx" : domain] = version;
  j["inputs"] = nlohmann::ordered_json::array();
  for (const auto& t : m.inputs) j["inputs"].push_back(tensorJson(t));
  j["outputs"] = nlohmann::ordered_json::array();
  for (const auto& t : m.outputs) j["outputs"].push_back(tensorJson(t));
  j["operators"] = m.operators;
  j["nodes"] = m.nodes;
  j["parameters"] = m.parameters;
  j["metadata"] = m.metadata;
  j["doc"] = m.doc;
  j["backend"] = {{"name", "opencv"}, {"supported", backend.has_value()}};
  if (!backend) j["backend"]["error"] = backend.error().message;
  return j;
}

void printInfo(const std::string& file, const ModelInfo& m, const Status& backend) {
  std::cout << fmt::format("model       {}\n", file);
  std::cout << fmt::format("sha256      {}\n", m.sha256);
  std::cout << fmt::format("size        {} bytes, {} parameters, {} nodes\n", m.size, m.parameters,
                           m.nodes);
  std::vector<std::string> opsets;
  for (const auto& [domain, version] : m.opsets) {
    opsets.push_back(fmt::format("{} {}", domain.empty() ? "ai.onnx" : domain, version));
  }
  std::cout << fmt::format("format      IR {}, opset {}\n", m.ir_version, fmt::join(opsets, ", "));
  std::cout << fmt::format("producer    {} (model version {})\n", m.producer, m.model_version);
  for (const auto& t : m.inputs) std::cout << fmt::format("input       {}\n", shapeText(t));
  for (const auto& t : m.outputs) std::cout << fmt::format("output      {}\n", shapeText(t));
  std::vector<std::string> ops;
  for (const auto& [op, count] : m.operators) ops.push_back(fmt::format("{}×{}", op, count));
  std::cout << fmt::format("operators   {}\n", fmt::join(ops, " "));
  for (const auto& [key, value] : m.metadata) {
    std::cout << fmt::format("metadata    {} = {}\n", key,
                             value.size() > 100 ? value.substr(0, 97) + "..." : value);
  }
  if (!m.doc.empty()) std::cout << fmt::format("doc         {}\n", m.doc);
  std::cout << (backend ? std::string("backend     opencv: can run this model\n")
                        : fmt::format("backend     opencv: CANNOT run this model: {}\n",
                                      backend.error().message));
}

// Whether the backend runs the model, with every dynamic dimension taken as 1.
Status runnable(std::span<const std::uint8_t> bytes, const ModelInfo& info) {
  auto backend = onnx::makeOpenCvBackend();
  SIE_CHECK(backend->supports(info));
  if (info.inputs.size() != 1) return ok();  // described; the onnx runtime feeds one input
  std::map<std::size_t, std::int64_t> ones;
  for (std::size_t d = 0; d < info.inputs[0].shape.size(); ++d) ones[d] = 1;
  const std::string fixed = SIE_TRY(onnx::specializeInput(bytes, ones));
  const std::span model(reinterpret_cast<const std::uint8_t*>(fixed.data()), fixed.size());
  const ModelInfo fixed_info = SIE_TRY(onnx::inspectModel(model));
  return onnx::trialRun(*backend, model, fixed_info).transform([](const auto&) {});
}

int runInspect(const InspectOptions& options) {
  auto file = onnx::readModelFile(options.file);
  if (!file) {
    std::cerr << "sie model inspect: " << file.error().str() << "\n";
    return kExitInvalid;
  }
  auto info = onnx::inspectModel(file->bytes);
  if (!info) {
    std::cerr << "sie model inspect: " << options.file << ": " << info.error().message << "\n";
    return kExitInvalid;
  }
  const Status backend = runnable(file->bytes, *info);
  if (options.json) {
    std::cout << infoJson(*info, backend).dump(2) << "\n";
  } else {
    printInfo(options.file, *info, backend);
  }
  return backend ? kExitOk : kExitUnsupported;
}

}  // namespace

void addModelCommand(CLI::App& app, int& exit_code) {
  auto* model = app.add_subcommand("model", "Work with ONNX model files");
  model->require_subcommand(1);
  auto options = std::make_shared<InspectOptions>();
  auto* inspect = model->add_subcommand(
      "inspect",
      "Describe an ONNX model: SHA-256, inputs, outputs, operators, metadata, and whether the "
      "backend can run it.\nExit 0: valid and runnable; 1: valid, not runnable here; 2: not a "
      "valid "
      "model.");
  inspect->add_option("FILE", options->file, "The .onnx file")->required();
  inspect->add_flag("--json", options->json, "Print JSON");
  inspect->callback([options, &exit_code] { exit_code = runInspect(*options); });
}

}  // namespace sie::cli
