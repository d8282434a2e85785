#include "control/artifact_refs.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "http/query.h"

namespace sie::node {

bool isSha256Hex(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Status checkArtifactName(std::string_view name) {
  const auto bad = [&](std::string_view why) {
    return fail(
        Errc::kInvalidArgument,
        fmt::format("artifact name '{}' {}; use the file's own name, e.g. pump.onnx", name, why),
        "name");
  };
  if (name.empty() || name.size() > 255) return bad("must be 1 to 255 bytes");
  if (name.front() == '.') return bad("must not start with '.'");
  if (name.ends_with(".sig")) {
    return bad("ends in .sig: send a signature with its file, in the X-Sie-Signature header");
  }
  for (const char c : name) {
    if (c == '/' || c == '\\') return bad("must be one file name, not a path");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return bad("holds a control character");
  }
  return ok();
}

Result<ArtifactRefs> parseArtifactRefs(std::string_view header) {
  ArtifactRefs refs;
  for (auto& [path, sha256] : http::parseQuery(header)) {
    const std::filesystem::path p(path);
    const std::string file = p.filename().string();  // "" for "dir/", "." or ".." for folders
    if (path.empty() || p.is_absolute() || p.lexically_normal().string() != path || file.empty() ||
        file == "." || file == "..") {
      return fail(Errc::kInvalidArgument,
                  fmt::format("X-Sie-Artifacts: '{}' must be a file's relative, normalized path "
                              "as the manifest names it (e.g. model.onnx, ../lib/helper.py)",
                              path),
                  "X-Sie-Artifacts");
    }
    if (!isSha256Hex(sha256)) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("X-Sie-Artifacts: '{}' for {} is not a SHA-256 digest (64 "
                              "lower-case hex digits)",
                              sha256, path),
                  "X-Sie-Artifacts");
    }
    refs.emplace(path, sha256);
  }
  return refs;
}

}  // namespace sie::node
