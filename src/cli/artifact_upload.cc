#include "cli/artifact_upload.h"

#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "config/function_bundle.h"
#include "core/file_text.h"
#include "core/sha256.h"
#include "core/signing.h"

namespace sie::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxFolderFiles = 10'000;

std::string sizeText(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < (1 << 20)) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

// A path as the manifest names it, normalized the way the node expects (no trailing slash).
std::string normal(const fs::path& path) {
  std::string out = path.lexically_normal().generic_string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

using Files = std::map<std::string, std::string>;  // manifest path -> local path

// Adds every file under the folder `local` (named `path` in the manifest), hidden ones,
// signatures and bundles aside.
std::optional<std::string> addFolder(const std::string& path, const fs::path& local, Files& files) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(local, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    // The same files a signed bundle covers (node/function_bundle.h).
    if (node::skippedInBundle(it->path().filename().string())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    if (files.size() >= kMaxFolderFiles) {
      return fmt::format(
          "{} holds more than {} files; keep a function's files in a folder of "
          "their own",
          local.string(), kMaxFolderFiles);
    }
    files.emplace(normal(fs::path(path) / it->path().lexically_relative(local)),
                  it->path().string());
  }
  return std::nullopt;
}

// Every file the document names, by its path in the manifest: an onnx model; a process
// executable with its whole folder (the worker may read it); spec.process.read files and
// folders' files.
tl::expected<Files, std::string> namedFiles(const std::string& manifest_file,
                                            std::string_view text) {
  Files files;
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(text));
  } catch (const YAML::Exception&) {
    return files;  // the node says what is wrong with the document
  }
  const YAML::Node spec = doc.IsMap() ? doc["spec"] : YAML::Node();
  if (!spec || !spec.IsMap() || !spec["runtime"] || !spec["handler"]) return files;
  const auto runtime = spec["runtime"].as<std::string>("");
  if (runtime != "onnx" && runtime != "process") return files;
  std::vector<std::pair<std::string, std::string>> named;  // (field, path)
  named.emplace_back("spec.handler", spec["handler"].as<std::string>(""));
  if (spec["process"] && spec["process"]["read"] && spec["process"]["read"].IsSequence()) {
    for (const auto& item : spec["process"]["read"])
      named.emplace_back("spec.process.read", item.as<std::string>(""));
  }
  const fs::path base = fs::path(manifest_file).parent_path();
  for (const auto& [field, path] : named) {
    if (path.empty() || fs::path(path).is_absolute()) continue;  // a path on the node
    const fs::path local = base / path;
    std::error_code ec;
    std::optional<std::string> failed;
    if (fs::is_regular_file(local, ec)) {
      files.emplace(normal(path), local.string());
      if (runtime == "process" && field == "spec.handler") {
        failed = addFolder(normal(fs::path(path).parent_path()), local.parent_path(), files);
      }
    } else if (field == "spec.process.read" && fs::is_directory(local, ec)) {
      failed = addFolder(normal(path), local, files);
    } else {
      failed = fmt::format(
          "{} {}: no such file beside the manifest (looked for {}); name a "
          "path on the node as an absolute path, or deploy with --no-upload",
          field, path, local.string());
    }
    if (failed) return tl::unexpected(*failed);
  }
  return files;
}

}  // namespace

std::string fileHeader(const std::string& path) {
  auto doc = readFileText(path);
  if (!doc) return "";
  return base64Encode(std::span(reinterpret_cast<const unsigned char*>(doc->data()), doc->size()));
}

std::string signatureHeader(const std::string& file) { return fileHeader(file + ".sig"); }

tl::expected<UploadedFile, int> uploadFile(const NodeClient& client, const std::string& local,
                                           const std::string& name, bool progress) {
  auto sha256 = sha256File(local);
  if (!sha256) {
    client.complain(sha256.error().str());
    return tl::unexpected(kExitLocal);
  }
  std::error_code ec;
  UploadedFile out{name, *sha256, fs::file_size(local, ec), false};
  const std::string signature = signatureHeader(local);
  auto known = client.callRaw({.method = "GET", .path = "/api/v1/artifacts/" + *sha256});
  if (!known) return tl::unexpected(known.error());
  const bool node_has_it =
      known->ok() && (signature.empty() || member(known->body, "signed") == true);
  if (node_has_it) return out;
  struct stat st {};
  const bool executable = ::stat(local.c_str(), &st) == 0 && (st.st_mode & S_IXUSR) != 0;
  const std::string file_name = fs::path(local).filename().string();
  Call call{.method = "PUT",
            .path = fmt::format("/api/v1/artifacts/{}?executable={}", urlEncode(file_name),
                                executable ? "true" : "false"),
            .content_type = "application/octet-stream",
            .headers = {{"X-Sie-Sha256", *sha256}},
            .body_file = local};
  if (!signature.empty()) call.headers["X-Sie-Signature"] = signature;
  if (progress) {
    call.progress = [&](std::uint64_t sent, std::uint64_t total) {
      std::cerr << fmt::format("\ruploading {} {} / {} ({}%)", name, sizeText(sent),
                               sizeText(total), total == 0 ? 100 : sent * 100 / total)
                << std::flush;
    };
  }
  auto reply = client.call(call);
  if (progress) std::cerr << "\n";
  if (!reply) return tl::unexpected(reply.error());
  out.sent = true;
  return out;
}

tl::expected<std::string, int> uploadManifestFiles(const NodeClient& client,
                                                   const std::string& manifest_file,
                                                   std::string_view text, bool progress) {
  auto files = namedFiles(manifest_file, text);
  if (!files) {
    client.complain(fmt::format("{}: {}", manifest_file, files.error()));
    return tl::unexpected(kExitLocal);
  }
  std::string header;
  for (const auto& [path, local] : *files) {
    auto uploaded = uploadFile(client, local, path, progress);
    if (!uploaded) return tl::unexpected(uploaded.error());
    header += fmt::format("{}{}={}", header.empty() ? "" : "&", urlEncode(path), uploaded->sha256);
  }
  return header;
}

}  // namespace sie::cli
