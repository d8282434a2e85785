// Ed25519 signatures for artifacts (function bundles, executables, models). A publisher signs a
// file and ships a detached signature document (FILE.sig) next to it; a node checks it against the
// public keys in its trust directory (one PEM file per key, *.pub).
//
// Signature document, one JSON line:
//   {"alg":"ed25519","key":"<key id>","sha256":"<hex of data>","signature":"<base64, 64 bytes>"}
// The signature covers the artifact's bytes; "sha256" only lets a refusal say that the artifact
// changed, it is not trusted by itself.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/env.h"
#include "sie/result.h"

namespace sie {

// Standard base64 (with padding). Decoding is strict: no whitespace, '=' only as padding,
// canonical trailing bits; nullopt otherwise.
std::string base64Encode(std::span<const unsigned char> bytes);
std::optional<std::vector<unsigned char>> base64Decode(std::string_view text);

struct PublicKey {
  std::string id;   // first 16 hex chars of SHA-256 of the raw 32-byte key
  std::string pem;  // the key re-encoded as a canonical "PUBLIC KEY" PEM block
};

// Writes a fresh key pair as PEM: the private key (PKCS#8, unencrypted) with mode 0600, the public
// key with mode 0644 (less the umask). Refuses if either file exists; writes neither then.
Status generateKeyPair(const std::string& private_path, const std::string& public_path,
                       const Env& env = Env::system());

// Parses an Ed25519 public key from PEM text; `where` names its origin for errors. Other key types,
// private keys and garbage are refused.
Result<PublicKey> readPublicKey(std::string_view pem, const std::string& where);

// Signs `data` with the Ed25519 private key in the PEM file at `private_key_path` and returns the
// signature document text (one line, ending in "\n").
Result<std::string> signDetached(std::string_view data, const std::string& private_key_path);

// The public keys a node trusts.
class TrustStore {
 public:
  TrustStore() = default;
  // For keys already parsed by readPublicKey (tests, fuzzing, keys held in memory).
  explicit TrustStore(std::vector<PublicKey> keys) : keys_(std::move(keys)) {}

  // Reads every *.pub file in `dir`, in file-name order. A missing `dir` is an empty store; an
  // unreadable or non-Ed25519 .pub file is an error naming the file.
  static Result<TrustStore> load(const std::string& dir);

  // Validates `pem` and writes it to dir/<name>.pub (dir/<key id>.pub when `name` is empty),
  // atomically, creating `dir` if needed. Refuses a key that is already trusted and a name that is
  // taken.
  static Status add(const std::string& dir, std::string_view pem, const std::string& name,
                    const Env& env = Env::system());

  // Removes the .pub file(s) in `dir` that hold the key with `id`; kNotFound if there is none.
  static Status remove(const std::string& dir, const std::string& id);

  [[nodiscard]] const std::vector<PublicKey>& keys() const { return keys_; }

  // Checks `signature_doc` for `data`; returns the id of the key that verified it. Each refusal
  // says what is wrong and how to fix it.
  [[nodiscard]] Result<std::string> verify(std::string_view data,
                                           std::string_view signature_doc) const;

 private:
  std::vector<PublicKey> keys_;
};

}  // namespace sie
