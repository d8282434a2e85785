// libFuzzer target: signature documents (TrustStore::verify against a fixed key) and public-key
// PEM (readPublicKey). Every input is tried as both.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/signing.h"

namespace {

// The seed corpus holds valid.sig, this key's signature over kData.
constexpr std::string_view kPublicKeyPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAR6M5XlyFzJ0EG2VQDVqcGJklW5pV29Lyys+OvPwwdus=\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kData = "sie fuzz artifact\n";

const sie::TrustStore& store() {
  static const sie::TrustStore trusted = [] {
    auto key = sie::readPublicKey(kPublicKeyPem, "fuzz.pub");
    if (!key) std::abort();
    return sie::TrustStore({*key});
  }();
  return trusted;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // Forging is out of reach; what verifies can only be the fixed key's signature.
  auto verified = store().verify(kData, input);
  if (verified && *verified != store().keys().front().id) std::abort();
  if (!verified && verified.error().message.empty()) std::abort();

  auto key = sie::readPublicKey(input, "fuzz.pub");
  if (!key) {
    if (key.error().message.empty() || key.error().where != "fuzz.pub") std::abort();
    return 0;
  }
  // A parsed key has a well-formed id, and its canonical PEM reads back as the same key.
  auto again = sie::readPublicKey(key->pem, "fuzz.pub");
  if (key->id.size() != 16 || !again || again->id != key->id || again->pem != key->pem)
    std::abort();
  return 0;
}
