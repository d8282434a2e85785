#include "control/artifact_trust.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/file_text.h"
#include "core/signing.h"
#include "security/key_endorsement.h"

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

Result<std::optional<SignedBundle>> bundleFromHeaders(std::string_view bundle,
                                                      std::string_view signature) {
  if (bundle.empty() && signature.empty()) return std::optional<SignedBundle>();
  const auto decode = [](std::string_view header, std::string_view name) -> Result<std::string> {
    const auto bytes = base64Decode(header);
    if (header.empty() || !bytes) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("{} must be the base64 of MANIFEST.{} (`sie sign --bundle` writes "
                              "it; `sie deploy -f` sends both headers)",
                              name, name == "X-Sie-Bundle" ? "bundle" : "bundle.sig"),
                  std::string(name));
    }
    return std::string(bytes->begin(), bytes->end());
  };
  SignedBundle out{SIE_TRY(decode(bundle, "X-Sie-Bundle")),
                   SIE_TRY(decode(signature, "X-Sie-Bundle-Signature"))};
  return std::optional<SignedBundle>(std::move(out));
}

std::vector<std::string> artifactFiles(const FunctionSpec& spec) {
  if (spec.runtime != "onnx" && spec.runtime != "process") return {};
  const fs::path handler(spec.handler);
  return {(handler.is_absolute() ? handler : fs::path(spec.base_dir) / handler)
              .lexically_normal()
              .string()};
}

namespace {

// FILE.sig beside a file on the node, verified.
Result<std::string> fileSigner(const TrustStore& trust, const std::string& file) {
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
  return signer;
}

}  // namespace

Result<TrustReport> ArtifactTrust::check(const std::string& manifest, const std::string& signature,
                                         const std::optional<SignedBundle>& bundle,
                                         const FunctionSpec& spec, bool manifest_checked) const {
  TrustReport report;
  if (!required_ && signature.empty() && !bundle) return report;
  if (required_ && !bundle) {
    return fail(Errc::kCorrupt,
                "this node requires signed deploys: sign the function's bundle (`sie sign "
                "--bundle FILE --key KEY`: the manifest and every file it runs or reads) and "
                "deploy it with `sie deploy -f FILE`, which sends FILE.bundle and its signature",
                "manifest");
  }
  const TrustStore trust = SIE_TRY(TrustStore::load(keys_dir_));
  if (bundle) {
    auto signer = trust.verify(bundle->document, bundle->signature);
    if (!signer) return fail(signer.error().code, "bundle: " + signer.error().message, "bundle");
    const FunctionBundle signed_bundle = SIE_TRY(FunctionBundle::parse(bundle->document));
    const FunctionBundle here = SIE_TRY(hashBundle(spec, manifest, signed_bundle.sequence));
    SIE_CHECK(matchBundle(signed_bundle, here));
    report.signers.push_back(*signer);
    report.sequence = signed_bundle.sequence;
  }
  if (!manifest_checked && !signature.empty()) {
    const std::string doc = SIE_TRY(signatureFromHeader(signature, "manifest"));
    auto signer = trust.verify(manifest, doc);
    if (!signer)
      return fail(signer.error().code, "manifest: " + signer.error().message, "manifest");
    report.signers.push_back(*signer);
  }
  if (!required_) return report;
  // A handler named by an absolute path is a file on the node, outside the bundle; folders the
  // function reads by absolute path (an SDK, a shared library) are the site's, like the
  // interpreter.
  if (fs::path(spec.handler).is_absolute()) {
    for (const std::string& file : artifactFiles(spec)) {
      report.signers.push_back(SIE_TRY(fileSigner(trust, file)));
    }
  }
  std::sort(report.signers.begin(), report.signers.end());
  report.signers.erase(std::unique(report.signers.begin(), report.signers.end()),
                       report.signers.end());
  return report;
}

Status ArtifactTrust::admitKey(std::string_view pem, std::string_view endorsement) const {
  if (endorsement.empty()) {
    if (!required_) return ok();
    return fail(Errc::kCorrupt,
                key_authority_.empty()
                    ? fmt::format("this node requires signatures and has no site CA to endorse "
                                  "keys (spec.security.keyAuthority): put the key in {} on the "
                                  "node instead",
                                  keys_dir_)
                    : "this node requires signatures: a key it trusts over the API needs the "
                      "site CA's endorsement; `sie pki endorse KEY.pub` writes "
                      "KEY.pub.endorsement, which `sie keys add KEY.pub` sends",
                "X-Sie-Endorsement");
  }
  const auto doc = base64Decode(endorsement);
  if (!doc) {
    return fail(Errc::kInvalidArgument,
                "X-Sie-Endorsement must be the base64 of KEY.pub.endorsement (`sie pki endorse`)",
                "X-Sie-Endorsement");
  }
  if (key_authority_.empty()) {
    return fail(Errc::kCorrupt,
                "an endorsed key needs a site CA to check it against: set "
                "spec.security.keyAuthority (or security.tls.caFile)",
                "X-Sie-Endorsement");
  }
  return security::checkEndorsement(pem, std::string(doc->begin(), doc->end()), key_authority_);
}

}  // namespace sie::node
