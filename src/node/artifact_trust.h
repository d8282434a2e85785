// ArtifactTrust: the node's rule for signed deploys (core/signing.h). With spec.requireSignatures,
// a manifest deployed through the API must carry its signature (the X-Sie-Signature header: the
// FILE.sig document written by `sie sign`, base64-encoded) and every file it runs — an onnx
// model, a process executable — must have FILE.sig beside it on the node; each must verify
// against a key in the trusted-keys folder. A signature sent without the requirement is checked
// all the same: a bad one is never ignored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sie/function.h"
#include "sie/result.h"

namespace sie::node {

class ArtifactTrust {
 public:
  ArtifactTrust(std::string keys_dir, bool required)
      : keys_dir_(std::move(keys_dir)), required_(required) {}

  // The ids of the keys that signed what `spec` runs, for the audit record; an error names the
  // artifact and says what is wrong. `signature` is the header's value ("" when absent);
  // `manifest_checked` skips the manifest (the node's own stored copy).
  Result<std::vector<std::string>> check(const std::string& manifest, const std::string& signature,
                                         const FunctionSpec& spec, bool manifest_checked) const;

  [[nodiscard]] const std::string& keysDir() const { return keys_dir_; }
  [[nodiscard]] bool required() const { return required_; }

 private:
  std::string keys_dir_;
  bool required_;
};

// The signature document an X-Sie-Signature header carries (base64 of FILE.sig); kInvalidArgument
// naming `of` ("manifest", "file") when the header is not strict base64.
Result<std::string> signatureFromHeader(std::string_view header, std::string_view of);

// The files a function runs, by path on the node: the model of an onnx function, the executable
// of a process function; none for builtins.
std::vector<std::string> artifactFiles(const FunctionSpec& spec);

}  // namespace sie::node
