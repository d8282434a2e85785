// The files a manifest runs and reads, sent to the node before the manifest: the model of an onnx
// function; the executable of a process function with every file in its folder (a bootstrap and
// the script it sources); each spec.process.read path (a folder's files, all of them). Paths are
// as the manifest names them, relative to its own folder. Files the node stores already (same
// SHA-256) are not sent again; FILE.sig beside a file goes with it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "cli/node_client.h"

namespace sie::cli {

struct UploadedFile {
  std::string path;  // as the manifest names it
  std::string sha256;
  std::uint64_t size = 0;
  bool sent = false;  // false: the node had it
};

// FILE.sig beside `file` (`sie sign`) as the X-Sie-Signature header sends it (base64); "" when
// the file is not signed.
std::string signatureHeader(const std::string& file);

// A small file's bytes as a header sends them (base64); "" when there is no such file.
std::string fileHeader(const std::string& path);

// Uploads one local file as `name`; shows progress on stderr when `progress`.
tl::expected<UploadedFile, int> uploadFile(const NodeClient& client, const std::string& local,
                                           const std::string& name, bool progress);

// Uploads what the manifest document `text` (from `manifest_file`) names and returns the
// X-Sie-Artifacts header for its deploy ("" when it names no local files), or the exit code
// after saying what is wrong.
tl::expected<std::string, int> uploadManifestFiles(const NodeClient& client,
                                                   const std::string& manifest_file,
                                                   std::string_view text, bool progress);

}  // namespace sie::cli
