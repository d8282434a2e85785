#include "node/artifact_trust.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "core/signing.h"

namespace sie::node {
namespace fs = std::filesystem;

namespace {

Result<std::string> readWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::kNotFound, "cannot read it", path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail(Errc::kIo, "cannot read it", path);
  return text.str();
}

Result<std::string> base64Decode(const std::string& text) {
  if (text.empty() || text.size() % 4 != 0) {
    return fail(Errc::kInvalidArgument,
                "X-Sie-Signature must be the base64 of the manifest's .sig document "
                "(`base64 -w0 FILE.sig`)");
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) {
    return fail(Errc::kInvalidArgument,
                "X-Sie-Signature is not base64 (send `base64 -w0 FILE.sig`)");
  }
  std::size_t size = static_cast<std::size_t>(n);
  if (text.ends_with("==")) {
    size -= 2;
  } else if (text.ends_with('=')) {
    size -= 1;
  }
  out.resize(size);
  return out;
}

}  // namespace

std::vector<std::string> artifactFiles(const FunctionSpec& spec) {
  if (spec.runtime != "onnx" && spec.runtime != "process") return {};
  const fs::path handler(spec.handler);
  return {(handler.is_absolute() ? handler : fs::path(spec.base_dir) / handler)
              .lexically_normal()
              .string()};
}

Result<std::vector<std::string>> ArtifactTrust::check(const std::string& manifest,
                                                      const std::string& signature,
                                                      const FunctionSpec& spec,
                                                      bool manifest_checked) const {
  std::vector<std::string> signers;
  if (!required_ && signature.empty()) return signers;
  const TrustStore trust = SIE_TRY(TrustStore::load(keys_dir_));
  if (!manifest_checked) {
    if (signature.empty()) {
      return fail(Errc::kCorrupt,
                  fmt::format("this node requires signed deploys: sign the manifest (`sie sign "
                              "FILE --key KEY`) and deploy it with `sie deploy -f FILE`, which "
                              "sends FILE.sig"),
                  "manifest");
    }
    const std::string doc = SIE_TRY(base64Decode(signature));
    auto signer = trust.verify(manifest, doc);
    if (!signer)
      return fail(signer.error().code, "manifest: " + signer.error().message, "manifest");
    signers.push_back(*signer);
  }
  if (!required_) return signers;
  for (const std::string& file : artifactFiles(spec)) {
    const std::string data = SIE_TRY(readWhole(file));
    auto doc = readWhole(file + ".sig");
    if (!doc) {
      return fail(Errc::kCorrupt,
                  fmt::format("{} has no signature ({}.sig); sign it with `sie sign {} --key KEY`",
                              file, file, file),
                  file);
    }
    auto signer = trust.verify(data, *doc);
    if (!signer)
      return fail(signer.error().code, fmt::format("{}: {}", file, signer.error().message), file);
    signers.push_back(*signer);
  }
  return signers;
}

}  // namespace sie::node
