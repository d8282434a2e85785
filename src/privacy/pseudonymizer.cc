#include "privacy/pseudonymizer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include <fmt/format.h>

#include "core/secret_file.h"

namespace sie::privacy {

Result<Pseudonymizer> Pseudonymizer::fromKey(std::string key, std::string_view origin) {
  if (key.size() < kMinKeyBytes) {
    return fail(Errc::kInvalidArgument,
                fmt::format("the privacy key {} holds {} bytes; it needs at least {}: make one "
                            "with `openssl rand -hex 32 > FILE` (mode 0600)",
                            origin, key.size(), kMinKeyBytes));
  }
  return Pseudonymizer(std::move(key));
}

Result<Pseudonymizer> Pseudonymizer::load(const std::string& path, const std::string& where) {
  auto key = readSecretFile(path, "privacy.keyFile", where);
  if (!key) {
    Error error = key.error();
    error.message += "; make the key with `openssl rand -hex 32 > FILE` (mode 0600)";
    return tl::unexpected(std::move(error));
  }
  auto made = fromKey(std::move(*key), fmt::format("in '{}'", path));
  if (!made) return fail(made.error().code, made.error().message, where);
  return made;
}

std::string Pseudonymizer::pseudonym(std::string_view value, std::size_t hex_chars) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(value.data()), value.size(), digest, &length);
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i)
    fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  hex.resize(std::clamp<std::size_t>(hex_chars, 1, hex.size()));
  return hex;
}

}  // namespace sie::privacy
