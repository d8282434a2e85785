// Bearer tokens for callers without a client certificate (dashboards, scripts, the CLI): each is
// bound to an identity and a role, has a lifetime, and can be revoked. The node keeps only a
// SHA-256 of each token's secret, in <data dir>/security/tokens.json (mode 0600), and reloads
// the file when it changes, so `sie token create --data-dir` works beside a running node.
//
//   token text   sie_<id>_<secret>   id: 16 hex digits (public, names the token in lists and
//                                    the audit); secret: 64 hex digits (32 random bytes)
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "security/access.h"
#include "sie/clock.h"
#include "sie/result.h"

namespace sie::security {

struct Token {
  std::string id;
  std::string identity;  // who holds it: "scada-dashboard", "alice"
  Role role = Role::kViewer;
  std::string secret_sha256;  // hex
  std::int64_t created_ns = 0;
  std::int64_t expires_ns = 0;  // 0: never
  bool revoked = false;
  // The sensors its holder may send readings for, as a topic pattern ("plant/pump-7/#"); ""
  // for any. Meant for device tokens, so one device cannot speak for another.
  std::string sensors;
};

// A new token's text, shown once, and its record.
struct IssuedToken {
  std::string text;
  Token token;
};

class TokenStore {
 public:
  // The store in `dir` (created 0700 when missing). `clock` decides expiry.
  static Result<std::unique_ptr<TokenStore>> open(std::string dir, const Clock& clock);

  // ttl 0: never expires. Identities are 1..64 printable characters without spaces; `sensors`
  // is "" or a topic pattern.
  Result<IssuedToken> create(std::string_view identity, Role role, std::chrono::seconds ttl,
                             std::string_view sensors = {});
  // Revokes by id; a revoked token stays listed (the audit refers to it).
  Status revoke(std::string_view id);
  Result<std::vector<Token>> list();
  // The record of a valid token; otherwise an error that says why (unknown, malformed, expired,
  // revoked) without echoing the secret.
  Result<Token> verify(std::string_view text);

  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  TokenStore(std::string dir, const Clock& clock);
  // Re-reads the file when its modification time or size changed; requires mu_.
  Status refresh();
  Status save();  // requires mu_

  std::string dir_;
  std::string path_;
  const Clock& clock_;
  std::mutex mu_;
  std::vector<Token> tokens_;
  std::int64_t seen_mtime_ns_ = -1;
  std::uintmax_t seen_size_ = 0;
};

}  // namespace sie::security
