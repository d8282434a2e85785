#include "exec/onnx/model_source.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "exec/onnx/embedded_models.h"
#include "exec/onnx/model_info.h"

namespace sie::onnx {

Result<ModelFile> readModelFile(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail(Errc::kNotFound, fmt::format("cannot read model file: {}", ec.message()), path);
  if (size > kMaxModelBytes) {
    return fail(Errc::kUnsupported,
                fmt::format("model file is {} bytes; the limit is {}", size, kMaxModelBytes), path);
  }
  ModelFile file{path, std::vector<std::uint8_t>(size)};
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(file.bytes.data()), static_cast<std::streamsize>(size));
  if (!in) return fail(Errc::kIo, fmt::format("cannot read model file: {}", std::strerror(errno)), path);
  return file;
}

Result<ModelFile> findModel(const FunctionSpec& spec) {
  namespace fs = std::filesystem;
  if (spec.handler.empty()) {
    return fail(Errc::kInvalidArgument, "spec.handler must name the model file, e.g. pump.onnx",
                spec.source_file);
  }
  const fs::path handler(spec.handler);
  const fs::path path =
      (handler.is_absolute() ? handler : fs::path(spec.base_dir) / handler).lexically_normal();
  std::error_code ec;
  if (fs::exists(path, ec)) {
    auto file = readModelFile(path.string());
    if (!file) file.error().where = spec.source_file + ": " + file.error().where;
    return file;
  }
  for (const EmbeddedModel& model : embeddedModels()) {
    if (path.string() == model.path) {
      return ModelFile{std::string(model.path),
                       std::vector<std::uint8_t>(model.bytes.begin(), model.bytes.end())};
    }
  }
  return fail(Errc::kNotFound,
              fmt::format("spec.handler: model file '{}' does not exist (looked for {})",
                          spec.handler, path.string()),
              spec.source_file);
}

}  // namespace sie::onnx
