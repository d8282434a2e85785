#include "core/signing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <nlohmann/json.hpp>

#include "core/file_text.h"
#include "core/openssl_support.h"
#include "core/sha256.h"

namespace sie {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxPemBytes = 16 * 1024;     // an Ed25519 PEM file is ~120 bytes
constexpr std::size_t kMaxSignatureDoc = 4 * 1024;  // a signature document is ~200 bytes
constexpr std::size_t kSignatureBytes = 64;
constexpr std::size_t kRawKeyBytes = 32;
constexpr std::size_t kKeyIdChars = 16;
constexpr std::string_view kResign = "sign the file again with `sie sign FILE --key KEY`";

struct PKeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using PKeyPtr = std::unique_ptr<EVP_PKEY, PKeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

std::string_view bioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size <= 0 ? std::string_view{} : std::string_view(data, static_cast<std::size_t>(size));
}

bool isLowerHex(std::string_view s, std::size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Keys are identified by their raw bytes, so the same key has the same id in any encoding.
Result<std::string> keyId(EVP_PKEY* key, const std::string& where) {
  std::array<unsigned char, kRawKeyBytes> raw{};
  std::size_t length = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &length) != 1 || length != raw.size())
    return fail(Errc::kParse, "cannot read the raw Ed25519 public key: " + opensslReason(), where);
  return sha256Hex(raw).substr(0, kKeyIdChars);
}

// Creates `path` with exactly `mode`; never replaces an existing file or follows a symlink.
Status writeNewFile(const std::string& path, std::string_view text, mode_t mode, const Env& env) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST)
      return fail(Errc::kAlreadyExists, "already exists; sie never overwrites a key file", path);
    return fail(Errc::kIo, fmt::format("cannot create: {}", std::strerror(errno)), path);
  }
  Status written =
      ::fchmod(fd, mode) == 0
          ? writeAllSynced(fd, text, path, env)
          : fail(Errc::kIo, fmt::format("cannot chmod: {}", std::strerror(errno)), path);
  ::close(fd);
  if (!written) ::unlink(path.c_str());
  return written;
}

Result<PKeyPtr> readPrivateKey(const std::string& path) {
  std::string text = SIE_TRY(readFileText(path, kMaxPemBytes));
  PKeyPtr key;
  if (!text.empty()) {
    BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr));
  }
  const bool encrypted = text.find("ENCRYPTED PRIVATE KEY") != std::string::npos;
  const bool is_public = text.find("BEGIN PUBLIC KEY") != std::string::npos;
  OPENSSL_cleanse(text.data(), text.size());
  if (!key) {
    ERR_clear_error();
    if (encrypted)
      return fail(Errc::kUnsupported,
                  "encrypted private keys are not supported; use a key from `sie keys generate`",
                  path);
    if (is_public)
      return fail(Errc::kInvalidArgument,
                  "this is a public key; sign with the private key (the .key file)", path);
    return fail(Errc::kParse,
                "not a PEM private key (expected -----BEGIN PRIVATE KEY-----, as written by `sie "
                "keys generate`)",
                path);
  }
  if (EVP_PKEY_is_a(key.get(), "ED25519") != 1) {
    const char* type = EVP_PKEY_get0_type_name(key.get());
    return fail(Errc::kUnsupported,
                fmt::format("the key is {}, not Ed25519; create one with `sie keys generate`",
                            type == nullptr ? "of another type" : type),
                path);
  }
  return key;
}

struct SignatureDoc {
  std::string key;
  std::string sha256;
  std::vector<unsigned char> signature;
};

tl::unexpected<Error> malformed(std::string_view detail) {
  return fail(Errc::kParse, fmt::format("malformed signature document: {}; {}", detail, kResign));
}

// Short, printable ASCII values may be echoed in messages; anything else is not shown.
bool printable(std::string_view s) {
  return s.size() <= 32 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

Result<SignatureDoc> parseSignatureDoc(std::string_view text) {
  if (text.size() > kMaxSignatureDoc)
    return malformed(fmt::format("larger than {} bytes", kMaxSignatureDoc));
  const auto doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return malformed("not a JSON object");
  auto field = [&doc](const char* name) -> const std::string* {
    const auto it = doc.find(name);
    return it == doc.end() || !it->is_string() ? nullptr : it->get_ptr<const std::string*>();
  };
  const std::string* alg = field("alg");
  const std::string* key = field("key");
  const std::string* sha256 = field("sha256");
  const std::string* signature = field("signature");
  if (alg == nullptr) return malformed("\"alg\" is missing or not a string");
  if (*alg != "ed25519") {
    return fail(Errc::kUnsupported,
                fmt::format("signature algorithm {} is not supported; sie verifies only ed25519 "
                            "signatures; {}",
                            printable(*alg) ? "'" + *alg + "'" : "(unprintable)", kResign));
  }
  if (key == nullptr || !isLowerHex(*key, kKeyIdChars))
    return malformed("\"key\" must be a key id (16 lower-case hex digits)");
  if (sha256 == nullptr || !isLowerHex(*sha256, 64))
    return malformed("\"sha256\" must be 64 lower-case hex digits");
  if (signature == nullptr) return malformed("\"signature\" is missing or not a string");
  auto bytes = base64Decode(*signature);
  if (!bytes || bytes->size() != kSignatureBytes)
    return malformed("\"signature\" must be the base64 of 64 bytes");
  return SignatureDoc{*key, *sha256, std::move(*bytes)};
}

bool verifies(const PublicKey& trusted, std::string_view data, const SignatureDoc& doc) {
  BioPtr bio(BIO_new_mem_buf(trusted.pem.data(), static_cast<int>(trusted.pem.size())));
  PKeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, noPassphrase, nullptr) : nullptr);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  static const unsigned char kEmpty = 0;
  const auto* bytes = data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data());
  const bool good = key && ctx && EVP_PKEY_is_a(key.get(), "ED25519") == 1 &&
                    EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
                    EVP_DigestVerify(ctx.get(), doc.signature.data(), doc.signature.size(), bytes,
                                     data.size()) == 1;
  ERR_clear_error();
  return good;
}

// The .pub files in `dir`, in name order; hidden files (temporaries of add()) are skipped.
Result<std::vector<fs::path>> pubFiles(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (status.type() == fs::file_type::not_found) return files;
  if (ec) return fail(Errc::kIo, fmt::format("cannot read: {}", ec.message()), dir);
  if (!fs::is_directory(status))
    return fail(Errc::kInvalidArgument, "not a directory (expected a folder of .pub files)", dir);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (name.starts_with(".") || it->path().extension() != ".pub" || !it->is_regular_file(type_ec))
      continue;
    files.push_back(it->path());
  }
  if (ec) return fail(Errc::kIo, fmt::format("cannot list: {}", ec.message()), dir);
  std::sort(files.begin(), files.end());
  return files;
}

Result<PublicKey> readPublicKeyFile(const fs::path& path) {
  const std::string text = SIE_TRY(readFileText(path.string(), kMaxPemBytes));
  return readPublicKey(text, path.string());
}

}  // namespace

std::string base64Encode(std::span<const unsigned char> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // + EVP_EncodeBlock's NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

// EVP_DecodeBlock alone skips whitespace and counts padding as zero bytes: checked here.
std::optional<std::vector<unsigned char>> base64Decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  if (text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  const bool alphabet =
      std::all_of(text.begin(), text.end() - static_cast<std::ptrdiff_t>(pad), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '/';
      });
  if (!alphabet) return std::nullopt;
  std::vector<unsigned char> out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0 || static_cast<std::size_t>(n) < pad) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  if (base64Encode(out) != text) return std::nullopt;
  return out;
}

Status generateKeyPair(const std::string& private_path, const std::string& public_path,
                       const Env& env) {
  if (private_path == public_path)
    return fail(Errc::kInvalidArgument, "the private and public key paths must differ",
                private_path);
  // Both are checked first so that a refusal leaves nothing behind.
  for (const std::string& path : {private_path, public_path}) {
    std::error_code ec;
    if (fs::symlink_status(path, ec).type() != fs::file_type::not_found)
      return fail(Errc::kAlreadyExists,
                  "already exists; sie never overwrites a key (move it away or choose another "
                  "name)",
                  path);
  }
  PKeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  // The secure heap keeps the private PEM out of ordinary memory and wipes it when freed.
  BioPtr private_pem(BIO_new(BIO_s_secmem()));
  BioPtr public_pem(BIO_new(BIO_s_mem()));
  if (!key || !private_pem || !public_pem ||
      PEM_write_bio_PrivateKey(private_pem.get(), key.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1 ||
      PEM_write_bio_PUBKEY(public_pem.get(), key.get()) != 1) {
    return fail(Errc::kInternal, "cannot generate an Ed25519 key: " + opensslReason());
  }
  SIE_CHECK(writeNewFile(private_path, bioText(private_pem.get()), 0600, env));
  Status written = writeNewFile(public_path, bioText(public_pem.get()), 0644, env);
  if (!written) {
    ::unlink(private_path.c_str());
    return written;
  }
  SIE_CHECK(syncDir(fs::path(private_path).parent_path().string(), env));
  return syncDir(fs::path(public_path).parent_path().string(), env);
}

Result<PublicKey> readPublicKey(std::string_view pem, const std::string& where) {
  if (pem.size() > kMaxPemBytes)
    return fail(Errc::kInvalidArgument,
                fmt::format("larger than {} bytes; this is not a public key", kMaxPemBytes), where);
  if (pem.find("PRIVATE KEY-----") != std::string_view::npos)
    return fail(Errc::kInvalidArgument,
                "this is a private key; pass the public key (the .pub file) and keep the private "
                "key secret",
                where);
  PKeyPtr key;
  if (!pem.empty()) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (bio) key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, noPassphrase, nullptr));
  }
  if (!key) {
    ERR_clear_error();
    return fail(Errc::kParse,
                "not a PEM public key (expected -----BEGIN PUBLIC KEY-----, as in the .pub file "
                "from `sie keys generate`)",
                where);
  }
  if (EVP_PKEY_is_a(key.get(), "ED25519") != 1) {
    const char* type = EVP_PKEY_get0_type_name(key.get());
    return fail(Errc::kUnsupported,
                fmt::format("the key is {}, not Ed25519; sie accepts only Ed25519 keys (create "
                            "one with `sie keys generate`)",
                            type == nullptr ? "of another type" : type),
                where);
  }
  PublicKey out;
  out.id = SIE_TRY(keyId(key.get(), where));
  BioPtr canonical(BIO_new(BIO_s_mem()));
  if (!canonical || PEM_write_bio_PUBKEY(canonical.get(), key.get()) != 1)
    return fail(Errc::kInternal, "cannot encode the public key: " + opensslReason(), where);
  out.pem = std::string(bioText(canonical.get()));
  return out;
}

Result<std::string> signDetached(std::string_view data, const std::string& private_key_path) {
  const PKeyPtr key = SIE_TRY(readPrivateKey(private_key_path));
  const std::string id = SIE_TRY(keyId(key.get(), private_key_path));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::array<unsigned char, kSignatureBytes> signature{};
  std::size_t length = signature.size();
  static const unsigned char kEmpty = 0;
  const auto* bytes = data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &length, bytes, data.size()) != 1 ||
      length != signature.size()) {
    return fail(Errc::kInternal, "cannot sign: " + opensslReason(), private_key_path);
  }
  const nlohmann::ordered_json doc = {
      {"alg", "ed25519"},
      {"key", id},
      {"sha256", sha256Hex({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()})},
      {"signature", base64Encode(signature)}};
  return doc.dump() + "\n";
}

Result<TrustStore> TrustStore::load(const std::string& dir) {
  std::vector<PublicKey> keys;
  for (const fs::path& file : SIE_TRY(pubFiles(dir)))
    keys.push_back(SIE_TRY(readPublicKeyFile(file)));
  return TrustStore(std::move(keys));
}

Status TrustStore::add(const std::string& dir, std::string_view pem, const std::string& name,
                       const Env& env) {
  const PublicKey key = SIE_TRY(readPublicKey(pem, name.empty() ? "public key" : name));
  std::string stem = name.ends_with(".pub") ? name.substr(0, name.size() - 4) : name;
  if (stem.empty()) stem = key.id;
  const bool safe =
      stem.size() <= 64 && stem.front() != '.' && std::all_of(stem.begin(), stem.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
      });
  if (!safe)
    return fail(Errc::kInvalidArgument,
                fmt::format("key name '{}' must be 1-64 letters, digits, '.', '_' or '-' and not "
                            "start with '.'",
                            printable(name) ? name : "(unprintable)"));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(Errc::kIo, fmt::format("cannot create: {}", ec.message()), dir);
  const fs::path target = fs::path(dir) / (stem + ".pub");
  for (const fs::path& file : SIE_TRY(pubFiles(dir))) {
    auto existing = readPublicKeyFile(file);
    if (existing && existing->id == key.id)
      return fail(Errc::kAlreadyExists,
                  fmt::format("key {} is already trusted ({})", key.id, file.string()));
  }
  // A temporary file linked into place: atomic, and link() never replaces an existing name.
  std::string tmp = (fs::path(dir) / ("." + stem + ".pub.tmp-XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return fail(Errc::kIo, fmt::format("cannot write: {}", std::strerror(errno)), dir);
  Status written = ::fchmod(fd, 0644) == 0 ? writeAllSynced(fd, key.pem, tmp, env)
                                           : fail(Errc::kIo, "cannot chmod", tmp);
  ::close(fd);
  if (written && ::link(tmp.c_str(), target.c_str()) != 0) {
    written = errno == EEXIST
                  ? fail(Errc::kAlreadyExists,
                         "already holds another key; choose another name or remove that key first",
                         target.string())
                  : fail(Errc::kIo, fmt::format("cannot write: {}", std::strerror(errno)),
                         target.string());
  }
  ::unlink(tmp.c_str());
  if (written) SIE_CHECK(syncDir(dir, env));
  return written;
}

Status TrustStore::remove(const std::string& dir, const std::string& id) {
  if (!isLowerHex(id, kKeyIdChars))
    return fail(Errc::kInvalidArgument,
                fmt::format("'{}' is not a key id (16 lower-case hex digits)",
                            printable(id) ? id : "(unprintable)"));
  int removed = 0;
  // Unreadable files are skipped: a broken file must not keep a key from being removed.
  for (const fs::path& file : SIE_TRY(pubFiles(dir))) {
    auto key = readPublicKeyFile(file);
    if (!key || key->id != id) continue;
    if (::unlink(file.c_str()) != 0)
      return fail(Errc::kIo, fmt::format("cannot remove: {}", std::strerror(errno)), file.string());
    ++removed;
  }
  if (removed == 0)
    return fail(Errc::kNotFound, fmt::format("no key with id {} is trusted", id), dir);
  return syncDir(dir);
}

Result<std::string> TrustStore::verify(std::string_view data,
                                       std::string_view signature_doc) const {
  const SignatureDoc doc = SIE_TRY(parseSignatureDoc(signature_doc));
  const bool trusted = std::any_of(keys_.begin(), keys_.end(),
                                   [&doc](const PublicKey& k) { return k.id == doc.key; });
  if (!trusted)
    return fail(Errc::kNotFound,
                fmt::format("signed by key {}, which this node does not trust; add it with `sie "
                            "keys add`",
                            doc.key));
  const std::string actual =
      sha256Hex({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
  if (actual != doc.sha256)
    return fail(Errc::kCorrupt,
                fmt::format("the artifact was changed after it was signed (sha256 {}, signed "
                            "{}), or the signature belongs to another file",
                            actual, doc.sha256));
  // Ids are 64-bit prefixes; should two trusted keys share one, either may verify.
  for (const PublicKey& key : keys_)
    if (key.id == doc.key && verifies(key, data, doc)) return key.id;
  return fail(Errc::kCorrupt,
              fmt::format("the signature does not verify with key {}: the signature document was "
                          "altered or not made by that key; {}",
                          doc.key, kResign));
}

}  // namespace sie
