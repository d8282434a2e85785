// libFuzzer target: the X-Sie-Artifacts header (parseArtifactRefs) and upload file names
// (checkArtifactName). Every input is tried as both.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "control/artifact_refs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // What parses names only relative, normal paths and well-formed digests: nothing the node lays
  // out can land outside the version's folder by a path of its own.
  if (auto refs = sie::node::parseArtifactRefs(input)) {
    for (const auto& [path, sha256] : *refs) {
      const std::filesystem::path p(path);
      if (path.empty() || p.is_absolute() || p.lexically_normal().string() != path) std::abort();
      if (p.filename().empty() || p.filename() == "." || p.filename() == "..") std::abort();
      if (!sie::node::isSha256Hex(sha256)) std::abort();
    }
  } else if (refs.error().message.empty()) {
    std::abort();
  }

  // An accepted name is one path component that cannot pass for a signature or a hidden file.
  if (sie::node::checkArtifactName(input)) {
    if (input.empty() || input.front() == '.' || input.ends_with(".sig") ||
        input.find('/') != std::string_view::npos || input.find('\0') != std::string_view::npos)
      std::abort();
  }
  return 0;
}
