// Pseudonyms for identifiers: HMAC-SHA-256 under the site's secret key, as hex. The same value
// gets the same pseudonym under the same key (across restarts and sinks, so records can still be
// joined), another key gives other pseudonyms, and without the key a pseudonym cannot be
// reversed or recomputed from a guessed identifier.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "sie/result.h"

namespace sie::privacy {

class Pseudonymizer {
 public:
  // Shorter keys are refused: HMAC-SHA-256 wants at least its output size.
  static constexpr std::size_t kMinKeyBytes = 32;

  // Refuses a key shorter than kMinKeyBytes; `origin` names it in the message.
  static Result<Pseudonymizer> fromKey(std::string key, std::string_view origin);
  // The key is the first line of the file (core/secret_file.h), e.g. from
  // `openssl rand -hex 32`. `where` locates the setting that named the file.
  static Result<Pseudonymizer> load(const std::string& path, const std::string& where);

  // The first `hex_chars` (1..64) hex digits of HMAC-SHA-256(key, value).
  [[nodiscard]] std::string pseudonym(std::string_view value, std::size_t hex_chars) const;

 private:
  explicit Pseudonymizer(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace sie::privacy
