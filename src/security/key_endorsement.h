// A signing key endorsed by the site CA. Trusting a key voids spec.requireSignatures for whatever
// it signs, so a node that requires signatures trusts a key sent over the API only with the site
// CA's endorsement: an identity the policy lets manage keys still cannot trust a key of its own
// making. `sie pki endorse KEY.pub` writes KEY.pub.endorsement; `sie keys add` sends it
// (X-Sie-Endorsement, base64).
//
// Document, one JSON line: {"alg":"site-ca","key":"<key id>","signature":"<base64>"}, the
// signature made by the CA key over "sie key endorsement 1\n" followed by the key's canonical PEM.
#pragma once

#include <string>
#include <string_view>

#include "security/pki.h"
#include "sie/result.h"

namespace sie::security {

// The endorsement document (ending in "\n") of the Ed25519 public key `pem`.
Result<std::string> endorseKey(const SiteCa& ca, std::string_view pem);

// ok() when `document` is the CA in `ca_file` endorsing `pem`; otherwise kCorrupt or
// kInvalidArgument saying what is wrong.
Status checkEndorsement(std::string_view pem, std::string_view document,
                        const std::string& ca_file);

}  // namespace sie::security
