#include "security/key_endorsement.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/signing.h"

namespace sie::security {
namespace {

constexpr std::string_view kContext = "sie key endorsement 1\n";

std::string endorsed(const PublicKey& key) { return std::string(kContext) + key.pem; }

}  // namespace

Result<std::string> endorseKey(const SiteCa& ca, std::string_view pem) {
  const PublicKey key = SIE_TRY(readPublicKey(pem, "the key"));
  const std::vector<unsigned char> signature = SIE_TRY(ca.signData(endorsed(key)));
  return nlohmann::json{{"alg", "site-ca"}, {"key", key.id}, {"signature", base64Encode(signature)}}
             .dump() +
         "\n";
}

Status checkEndorsement(std::string_view pem, std::string_view document,
                        const std::string& ca_file) {
  const PublicKey key = SIE_TRY(readPublicKey(pem, "the key"));
  const auto doc = nlohmann::json::parse(document, nullptr, false);
  const auto field = [&](const char* name) {
    return doc.is_object() && doc.contains(name) && doc[name].is_string()
               ? doc[name].get<std::string>()
               : std::string();
  };
  const auto signature = base64Decode(field("signature"));
  if (field("alg") != "site-ca" || !signature) {
    return fail(Errc::kInvalidArgument,
                "the endorsement is not a site CA's endorsement document (`sie pki endorse "
                "KEY.pub` writes one)",
                "X-Sie-Endorsement");
  }
  if (field("key") != key.id) {
    return fail(Errc::kCorrupt,
                fmt::format("the endorsement is for key {}, not {}", field("key"), key.id),
                "X-Sie-Endorsement");
  }
  if (auto verified = verifyCaSignature(endorsed(key), *signature, ca_file); !verified) {
    return fail(Errc::kCorrupt,
                fmt::format("key {} is not endorsed by this node's site CA ({}): {}", key.id,
                            ca_file, verified.error().message),
                "X-Sie-Endorsement");
  }
  return ok();
}

}  // namespace sie::security
