// ArtifactTrust: the node's rule for signed deploys (core/signing.h). With spec.requireSignatures,
// a function deployed through the API must come with its signed bundle (function_bundle.h: the
// manifest and every file it runs or reads, hashed, with a release sequence; `sie sign --bundle`)
// verified by a key in the trusted-keys folder, and each file it names by an absolute path (a
// file on the node) must have FILE.sig beside it. A manifest signature alone (X-Sie-Signature,
// `sie sign FILE`) no longer satisfies the requirement: it leaves modules and data unsigned. A
// signature sent without the requirement is checked all the same: a bad one is never ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/function_bundle.h"
#include "sie/function.h"
#include "sie/result.h"

namespace sie::node {

struct TrustReport {
  std::vector<std::string> signers;  // key ids, for the audit record
  std::int64_t sequence = 0;         // the signed bundle's release sequence; 0 without a bundle
};

class ArtifactTrust {
 public:
  ArtifactTrust(std::string keys_dir, bool required, std::string key_authority = {})
      : keys_dir_(std::move(keys_dir)),
        required_(required),
        key_authority_(std::move(key_authority)) {}

  // Who signed what `spec` runs, and the bundle's sequence; an error names the artifact and says
  // what is wrong. `signature` is the X-Sie-Signature header's value ("" when absent); `bundle`
  // the decoded bundle headers (or the node's stored copy); `manifest_checked` skips the manifest
  // signature (the node's own stored copy).
  Result<TrustReport> check(const std::string& manifest, const std::string& signature,
                            const std::optional<SignedBundle>& bundle, const FunctionSpec& spec,
                            bool manifest_checked) const;

  // Whether the public key `pem` may be trusted through the API: with the requirement, only
  // with the site CA's endorsement (`endorsement`: the X-Sie-Endorsement header, base64), so the
  // right to manage keys is not the right to void the requirement. kForbidden (kCorrupt) or
  // kInvalidArgument say why not.
  [[nodiscard]] Status admitKey(std::string_view pem, std::string_view endorsement) const;

  [[nodiscard]] const std::string& keysDir() const { return keys_dir_; }
  [[nodiscard]] bool required() const { return required_; }

 private:
  std::string keys_dir_;
  bool required_;
  std::string key_authority_;  // the site CA certificate; "" for none
};

// The signature document an X-Sie-Signature header carries (base64 of FILE.sig); kInvalidArgument
// naming `of` ("manifest", "file") when the header is not strict base64.
Result<std::string> signatureFromHeader(std::string_view header, std::string_view of);

// The X-Sie-Bundle and X-Sie-Bundle-Signature headers (each base64), decoded; nullopt when both
// are absent, kInvalidArgument naming the header when one is missing or not strict base64.
Result<std::optional<SignedBundle>> bundleFromHeaders(std::string_view bundle,
                                                      std::string_view signature);

// The files a function runs, by path on the node: the model of an onnx function, the executable
// of a process function; none for builtins. With a bundle, only those named by an absolute path.
std::vector<std::string> artifactFiles(const FunctionSpec& spec);

}  // namespace sie::node
