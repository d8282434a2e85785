// A function bundle: what a signed deploy covers. `sie sign --bundle MANIFEST` hashes the manifest
// and every file the function runs or reads, and signs that list with a release sequence; the node
// hashes the same files from what it was sent and refuses any difference, file by file.
//
// Document (text, one field per line, files sorted by path, each line ending in "\n"):
//   sie-bundle 1
//   name <function name>
//   sequence <release counter, 1 .. 2^63-1: a node refuses a lower one than it deployed>
//   manifest <sha256 of the manifest's bytes>
//   file <path as the manifest names it, %-escaped> <sha256>
//
// Files: the handler (an onnx model, a process executable), a process handler's whole folder (its
// modules and sourced scripts), every spec.process.read file and folder — hidden files, *.sig
// and *.bundle aside, as `sie deploy` uploads them. Absolute paths are files on the node, which
// keep their own FILE.sig.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sie/function.h"
#include "sie/result.h"

namespace sie::node {

struct BundleFile {
  std::string path;  // as the manifest names it, normalized
  std::string sha256;
  bool operator==(const BundleFile&) const = default;
};

struct FunctionBundle {
  std::string name;
  std::int64_t sequence = 0;
  std::string manifest_sha256;
  std::vector<BundleFile> files;  // sorted by path, unique

  [[nodiscard]] std::string text() const;
  // Strict: the exact layout above, or kInvalidArgument saying which line is wrong.
  static Result<FunctionBundle> parse(std::string_view text);
};

inline constexpr std::size_t kMaxBundleFiles = 10'000;

// A bundle document as signed, with its signature document (core/signing.h): what a deploy
// sends (X-Sie-Bundle, X-Sie-Bundle-Signature) and the node keeps beside the manifest.
struct SignedBundle {
  std::string document;
  std::string signature;
};

// Whether a folder walk skips `name` (a file or folder name): hidden entries, signatures and
// bundle documents.
bool skippedInBundle(std::string_view name);

// The bundle of `spec` (parsed from `manifest`) as the files under spec.base_dir are now.
Result<FunctionBundle> hashBundle(const FunctionSpec& spec, std::string_view manifest,
                                  std::int64_t sequence);

// ok() when `here` (hashed by the node) is what `signed_bundle` lists; otherwise kCorrupt naming
// the manifest or each file that differs, is missing or was added.
Status matchBundle(const FunctionBundle& signed_bundle, const FunctionBundle& here);

}  // namespace sie::node
