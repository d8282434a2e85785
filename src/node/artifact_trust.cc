#include "node/artifact_trust.h"

#include <filesystem>

#include <fmt/format.h>

#include "core/file_text.h"
#include "core/signing.h"

namespace sie::node {
namespace fs = std::filesystem;

Result<std::string> signatureFromHeader(std::string_view header, std::string_view of) {
  const auto doc = base64Decode(header);
  if (!doc) {
    return fail(Errc::kInvalidArgument,
                fmt::format("X-Sie-Signature must be the base64 of the {}'s .sig document "
                            "(`base64 -w0 FILE.sig`)",
                            of),
                "X-Sie-Signature");
  }
  return std::string(doc->begin(), doc->end());
}

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
    const std::string doc = SIE_TRY(signatureFromHeader(signature, "manifest"));
    auto signer = trust.verify(manifest, doc);
    if (!signer)
      return fail(signer.error().code, "manifest: " + signer.error().message, "manifest");
    signers.push_back(*signer);
  }
  if (!required_) return signers;
  for (const std::string& file : artifactFiles(spec)) {
    const std::string data = SIE_TRY(readFileText(file));
    auto doc = readFileText(file + ".sig");
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
