#include "security/tokens.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <filesystem>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <nlohmann/json.hpp>

#include "core/file_text.h"
#include "core/json_text.h"
#include "core/sha256.h"
#include "core/topic_pattern.h"

namespace sie::security {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kIdBytes = 8;
constexpr std::size_t kSecretBytes = 32;
constexpr std::string_view kPrefix = "sie_";
constexpr std::uintmax_t kMaxFileBytes = 16 << 20;

std::string hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) fmt::format_to(std::back_inserter(out), "{:02x}", b);
  return out;
}

Result<std::string> randomHex(std::size_t bytes) {
  std::array<std::uint8_t, 64> buffer{};
  if (bytes > buffer.size() || RAND_bytes(buffer.data(), static_cast<int>(bytes)) != 1) {
    return fail(Errc::kInternal, "the system's random generator failed");
  }
  return hex({buffer.data(), bytes});
}

std::string sha256Of(std::string_view text) {
  return sha256Hex({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});  // NOLINT
}

bool isHex(std::string_view text, std::size_t size) {
  return text.size() == size && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

nlohmann::json toJson(const Token& t) {
  return {{"id", t.id},
          {"identity", t.identity},
          {"role", roleName(t.role)},
          {"sha256", t.secret_sha256},
          {"createdNs", t.created_ns},
          {"expiresNs", t.expires_ns},
          {"revoked", t.revoked},
          {"sensors", t.sensors}};
}

Result<Token> fromJson(const nlohmann::json& j, const std::string& where) {
  const auto text = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (!j.is_object()) return fail(Errc::kCorrupt, "a token entry is not an object", where);
  const auto role = parseRole(text("role"));
  if (!role) return fail(Errc::kCorrupt, "a token entry lacks a known role", where);
  Token t;
  t.id = text("id");
  t.identity = text("identity");
  t.role = *role;
  t.secret_sha256 = text("sha256");
  t.sensors = text("sensors");
  const auto number = [&](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
  };
  t.created_ns = number("createdNs");
  t.expires_ns = number("expiresNs");
  const auto revoked = j.find("revoked");
  t.revoked = revoked == j.end() || !revoked->is_boolean() || revoked->get<bool>();
  if (!isHex(t.id, kIdBytes * 2) || !isHex(t.secret_sha256, 64)) {
    return fail(Errc::kCorrupt, fmt::format("token entry '{}' is malformed", t.id), where);
  }
  return t;
}

}  // namespace

TokenStore::TokenStore(std::string dir, const Clock& clock)
    : dir_(std::move(dir)), path_((fs::path(dir_) / "tokens.json").string()), clock_(clock) {}

Result<std::unique_ptr<TokenStore>> TokenStore::open(std::string dir, const Clock& clock) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(Errc::kIo, fmt::format("cannot create the folder: {}", ec.message()), dir);
  ::chmod(dir.c_str(), 0700);
  std::unique_ptr<TokenStore> store(new TokenStore(std::move(dir), clock));
  std::lock_guard lock(store->mu_);
  SIE_CHECK(store->refresh());
  return store;
}

Status TokenStore::refresh() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    tokens_.clear();
    seen_mtime_ns_ = -1;
    return ok();
  }
  const std::int64_t mtime = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
  if (mtime == seen_mtime_ns_ && static_cast<std::uintmax_t>(st.st_size) == seen_size_) {
    return ok();
  }
  const std::string text = SIE_TRY(readFileText(path_, kMaxFileBytes));
  auto doc = parseJson(text);
  if (!doc || !doc->is_object() || !(*doc)["tokens"].is_array()) {
    return fail(Errc::kCorrupt, "not a token file ({\"tokens\": [...]})", path_);
  }
  std::vector<Token> loaded;
  for (const auto& entry : (*doc)["tokens"]) loaded.push_back(SIE_TRY(fromJson(entry, path_)));
  tokens_ = std::move(loaded);
  seen_mtime_ns_ = mtime;
  seen_size_ = static_cast<std::uintmax_t>(st.st_size);
  return ok();
}

Status TokenStore::save() {
  nlohmann::json list = nlohmann::json::array();
  for (const Token& t : tokens_) list.push_back(toJson(t));
  SIE_CHECK(writeFileAtomically(path_, nlohmann::json{{"tokens", list}}.dump(2) + "\n", 0600));
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) {
    seen_mtime_ns_ = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
    seen_size_ = static_cast<std::uintmax_t>(st.st_size);
  }
  return ok();
}

Result<IssuedToken> TokenStore::create(std::string_view identity, Role role,
                                       std::chrono::seconds ttl, std::string_view sensors) {
  if (!sensors.empty()) {
    if (auto pattern = TopicPattern::parse(sensors); !pattern) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("sensors '{}': {}", sensors, pattern.error().message));
    }
  }
  const bool printable =
      std::all_of(identity.begin(), identity.end(), [](char c) { return c > ' ' && c < 127; });
  if (identity.empty() || identity.size() > 64 || !printable) {
    return fail(Errc::kInvalidArgument,
                "a token's identity must be 1 to 64 printable characters without spaces");
  }
  if (ttl.count() < 0) return fail(Errc::kInvalidArgument, "a token's lifetime cannot be negative");
  std::lock_guard lock(mu_);
  SIE_CHECK(refresh());
  IssuedToken issued;
  Token& t = issued.token;
  t.id = SIE_TRY(randomHex(kIdBytes));
  const std::string secret = SIE_TRY(randomHex(kSecretBytes));
  t.identity = std::string(identity);
  t.role = role;
  t.sensors = std::string(sensors);
  t.secret_sha256 = sha256Of(secret);
  t.created_ns = clock_.nowNs();
  t.expires_ns = ttl.count() == 0 ? 0 : t.created_ns + ttl.count() * 1'000'000'000LL;
  tokens_.push_back(t);
  if (auto saved = save(); !saved) {
    tokens_.pop_back();
    return tl::unexpected(saved.error());
  }
  issued.text = fmt::format("{}{}_{}", kPrefix, t.id, secret);
  return issued;
}

Status TokenStore::revoke(std::string_view id) {
  std::lock_guard lock(mu_);
  SIE_CHECK(refresh());
  auto it =
      std::find_if(tokens_.begin(), tokens_.end(), [&](const Token& t) { return t.id == id; });
  if (it == tokens_.end()) {
    return fail(Errc::kNotFound,
                fmt::format("no token with id '{}'", isHex(id, kIdBytes * 2) ? id : "?"));
  }
  it->revoked = true;
  return save();
}

Result<std::vector<Token>> TokenStore::list() {
  std::lock_guard lock(mu_);
  SIE_CHECK(refresh());
  return tokens_;
}

Result<Token> TokenStore::verify(std::string_view text) {
  const auto malformed = [] {
    return fail(Errc::kUnauthenticated,
                "the bearer token is malformed (expected sie_<id>_<secret>)");
  };
  if (!text.starts_with(kPrefix)) return malformed();
  text.remove_prefix(kPrefix.size());
  const auto cut = text.find('_');
  if (cut == std::string_view::npos) return malformed();
  const std::string_view id = text.substr(0, cut);
  const std::string_view secret = text.substr(cut + 1);
  if (!isHex(id, kIdBytes * 2) || !isHex(secret, kSecretBytes * 2)) return malformed();
  const std::string digest = sha256Of(secret);
  std::lock_guard lock(mu_);
  SIE_CHECK(refresh());
  for (const Token& t : tokens_) {
    if (t.id != id) continue;
    if (CRYPTO_memcmp(t.secret_sha256.data(), digest.data(), digest.size()) != 0) break;
    if (t.revoked) return fail(Errc::kUnauthenticated, fmt::format("token {} is revoked", t.id));
    if (t.expires_ns != 0 && clock_.nowNs() >= t.expires_ns) {
      return fail(Errc::kUnauthenticated, fmt::format("token {} has expired", t.id));
    }
    return t;
  }
  return fail(Errc::kUnauthenticated, "the bearer token is not one this node issued");
}

}  // namespace sie::security
