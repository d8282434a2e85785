#include "security/pki.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <nlohmann/json.hpp>

#include "core/file_text.h"
#include "core/json_text.h"
#include "core/openssl_support.h"
#include "http/tls.h"

namespace sie::security {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Crl = std::unique_ptr<X509_CRL, Deleter<X509_CRL, X509_CRL_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

constexpr std::chrono::seconds kHour{3600};

Error sslError(std::string what) {
  return Error{Errc::kInternal, fmt::format("{}: {}", what, opensslReason())};
}

bool validName(std::string_view name, bool slashes) {
  if (name.empty() || name.size() > 128 || name.front() == '/' || name.back() == '/' ||
      name.find("//") != std::string_view::npos || name.starts_with('.')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [slashes](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || (slashes && c == '/');
  });
}

Result<Key> newKey(KeyType type) {
  Key key(type == KeyType::kEd25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                    : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return tl::unexpected(sslError("cannot generate a key"));
  return key;
}

// Ed25519 signs the message itself; ECDSA a SHA-256 digest.
const EVP_MD* digestFor(EVP_PKEY* key) {
  return EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

Result<std::string> pemOf(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return tl::unexpected(sslError("cannot encode a certificate"));
  }
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio.get(), &mem);
  return std::string(mem->data, mem->length);
}

Result<std::string> pemOfKey(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return tl::unexpected(sslError("cannot encode a key"));
  }
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio.get(), &mem);
  return std::string(mem->data, mem->length);
}

Result<Cert> readCert(const std::string& file) {
  const std::string text = SIE_TRY(readFileText(file, 1 << 20));
  Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, &noPassphrase, nullptr));
  if (!cert) {
    return fail(Errc::kInvalidArgument,
                fmt::format("no PEM certificate in it ({})", opensslReason()), file);
  }
  return cert;
}

Result<Key> readKey(const std::string& file) {
  const std::string text = SIE_TRY(readFileText(file, 1 << 20));
  Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, &noPassphrase, nullptr));
  if (!key) {
    return fail(Errc::kInvalidArgument,
                fmt::format("no unencrypted PEM private key in it ({})", opensslReason()), file);
  }
  return key;
}

std::string serialHex(const ASN1_INTEGER* serial) {
  Bignum bn(ASN1_INTEGER_to_BN(serial, nullptr));
  char* hex = bn ? BN_bn2hex(bn.get()) : nullptr;
  std::string out = hex == nullptr ? "" : hex;
  OPENSSL_free(hex);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// 16 random bytes, positive.
Status setRandomSerial(X509* cert) {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), bytes.size()) != 1) {
    return tl::unexpected(sslError("cannot draw a serial number"));
  }
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;
  Bignum bn(BN_bin2bn(bytes.data(), bytes.size(), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return tl::unexpected(sslError("cannot set a serial number"));
  }
  return ok();
}

Status addExtension(X509* cert, X509V3_CTX& ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) {
    return tl::unexpected(sslError(fmt::format("cannot make the extension '{}'", value)));
  }
  const int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (added != 1) return tl::unexpected(sslError("cannot add an extension"));
  return ok();
}

std::int64_t asn1Seconds(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

bool isIp(std::string_view host) {
  return std::all_of(host.begin(), host.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) ||
         host.find(':') != std::string_view::npos;
}

// The fields a certificate is made of, apart from the key it certifies and who signs it.
struct Template {
  std::string common_name;
  std::string organization;                                     // "" for none
  std::vector<std::pair<std::string, std::string>> extensions;  // (name, value) for v3 conf
  std::int64_t lifetime_s = 0;
};

Result<Cert> sign(const Template& t, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key) {
  Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return tl::unexpected(sslError("X509_new"));
  SIE_CHECK(setRandomSerial(cert.get()));
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!t.organization.empty()) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(t.organization.c_str()), -1,
                               -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(t.common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(t.lifetime_s));
  if (X509_set_pubkey(cert.get(), subject_key) != 1) return tl::unexpected(sslError("pubkey"));
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [ext, value] : t.extensions) {
    SIE_CHECK(addExtension(cert.get(), ctx, OBJ_txt2nid(ext.c_str()), value));
  }
  if (X509_sign(cert.get(), issuer_key, digestFor(issuer_key)) == 0) {
    return tl::unexpected(sslError("cannot sign the certificate"));
  }
  return cert;
}

std::string oneLine(X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio.get(), &mem);
  return std::string(mem->data, mem->length);
}

Result<Json> readIndex(const std::string& dir) {
  const std::string text = SIE_TRY(readFileText(dir + "/issued.json", 64 << 20));
  auto parsed = parseJson(text);
  if (!parsed) return fail(Errc::kCorrupt, parsed.error().message, dir + "/issued.json");
  Json index = std::move(*parsed);
  if (!index.is_object() || !index["issued"].is_array()) {
    return fail(Errc::kInvalidArgument, "not a sie CA index (no 'issued' list)",
                dir + "/issued.json");
  }
  return index;
}

Status writeIndex(const std::string& dir, const Json& index) {
  return writeFileAtomically(dir + "/issued.json", index.dump(2) + "\n", 0600);
}

Result<std::pair<Cert, Key>> loadCa(const std::string& dir) {
  Cert cert = SIE_TRY(readCert(dir + "/ca.crt"));
  Key key = SIE_TRY(readKey(dir + "/ca.key"));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return fail(Errc::kInvalidArgument, "ca.key is not the key of ca.crt", dir);
  }
  return std::pair{std::move(cert), std::move(key)};
}

std::string fileBase(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '/', '-');
  return out;
}

}  // namespace

std::string_view kindName(IdentityKind kind) {
  switch (kind) {
    case IdentityKind::kNode:
      return "node";
    case IdentityKind::kClient:
      return "client";
    case IdentityKind::kDevice:
      return "device";
  }
  return "client";
}

std::optional<IdentityKind> parseKind(std::string_view name) {
  for (auto kind : {IdentityKind::kNode, IdentityKind::kClient, IdentityKind::kDevice}) {
    if (kindName(kind) == name) return kind;
  }
  return std::nullopt;
}

std::optional<KeyType> parseKeyType(std::string_view name) {
  if (name == "ecdsa-p256") return KeyType::kEcdsaP256;
  if (name == "ed25519") return KeyType::kEd25519;
  return std::nullopt;
}

std::chrono::seconds defaultLifetime(IdentityKind kind) {
  switch (kind) {
    case IdentityKind::kNode:
      return 7 * 24 * kHour;
    case IdentityKind::kClient:
      return 24 * kHour;
    case IdentityKind::kDevice:
      return 30 * 24 * kHour;
  }
  return 24 * kHour;
}

Result<SiteCa> SiteCa::init(const std::string& dir, std::string_view trust_domain, KeyType key_type,
                            std::chrono::seconds lifetime) {
  if (trust_domain.starts_with("spiffe://")) trust_domain.remove_prefix(9);
  while (trust_domain.ends_with('/')) trust_domain.remove_suffix(1);
  if (!validName(trust_domain, false)) {
    return fail(Errc::kInvalidArgument,
                fmt::format("trust domain '{}' must be letters, digits, '.', '-' or '_' (e.g. "
                            "plant-a)",
                            trust_domain));
  }
  std::error_code ec;
  if (fs::exists(dir + "/ca.key", ec)) {
    return fail(Errc::kAlreadyExists,
                "a CA is already here; issue with it, or choose another folder", dir);
  }
  fs::create_directories(dir, ec);
  if (ec || ::chmod(dir.c_str(), 0700) != 0) {
    return fail(Errc::kIo, fmt::format("cannot create the folder: {}", ec.message()), dir);
  }
  Key key = SIE_TRY(newKey(key_type));
  const std::string td(trust_domain);
  const Template t{.common_name = fmt::format("sie site CA {}", td),
                   .extensions = {{"basicConstraints", "critical,CA:TRUE,pathlen:0"},
                                  {"keyUsage", "critical,keyCertSign,cRLSign"},
                                  {"subjectKeyIdentifier", "hash"},
                                  {"subjectAltName", fmt::format("URI:spiffe://{}", td)}},
                   .lifetime_s = lifetime.count()};
  Cert cert = SIE_TRY(sign(t, key.get(), nullptr, key.get()));
  SIE_CHECK(writeFileAtomically(dir + "/ca.key", SIE_TRY(pemOfKey(key.get())), 0600));
  SIE_CHECK(writeFileAtomically(dir + "/ca.crt", SIE_TRY(pemOf(cert.get())), 0644));
  SIE_CHECK(writeIndex(dir, Json{{"trustDomain", td}, {"issued", Json::array()}}));
  SiteCa ca(dir, td);
  SIE_CHECK(ca.writeCrl());
  return ca;
}

Result<SiteCa> SiteCa::open(const std::string& dir) {
  const Json index = SIE_TRY(readIndex(dir));
  const auto td = index.value("trustDomain", std::string());
  if (!validName(td, false)) {
    return fail(Errc::kInvalidArgument, "issued.json names no valid trust domain", dir);
  }
  return SiteCa(dir, td);
}

Result<IssuedIdentity> SiteCa::issue(const IssueRequest& request) {
  if (!validName(request.name, request.kind == IdentityKind::kDevice)) {
    return fail(
        Errc::kInvalidArgument,
        fmt::format("name '{}' must be 1..128 letters, digits, '.', '_' or '-'{}", request.name,
                    request.kind == IdentityKind::kDevice
                        ? " ('/' between parts: the device's sensor prefix)"
                        : ""));
  }
  if (request.kind == IdentityKind::kClient && request.role == Role::kDevice) {
    return fail(Errc::kInvalidArgument,
                "a client cannot have the device role: issue a device identity (sie pki issue "
                "device NAME), which may send readings for its own sensors only");
  }
  auto [ca_cert, ca_key] = SIE_TRY(loadCa(dir_));
  const std::string id =
      fmt::format("spiffe://{}/{}/{}", trust_domain_, kindName(request.kind), request.name);
  std::string san = "URI:" + id;
  std::string usage = "clientAuth";
  if (request.kind == IdentityKind::kNode) {
    std::vector<std::string> hosts{"localhost", "127.0.0.1", "::1"};
    for (const auto& host : request.hosts) {
      if (host.empty() || host.find_first_of(", \t") != std::string::npos) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("host '{}' is not a name or address", host));
      }
      if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
    }
    for (const auto& host : hosts) san += fmt::format(",{}:{}", isIp(host) ? "IP" : "DNS", host);
    usage = "serverAuth,clientAuth";
  }
  const auto lifetime =
      request.lifetime.count() > 0 ? request.lifetime : defaultLifetime(request.kind);
  const Template t{.common_name = request.name,
                   .organization = request.kind == IdentityKind::kClient
                                       ? std::string(roleName(request.role))
                                       : std::string(kindName(request.kind)),
                   .extensions = {{"basicConstraints", "critical,CA:FALSE"},
                                  {"keyUsage", "critical,digitalSignature"},
                                  {"extendedKeyUsage", usage},
                                  {"subjectKeyIdentifier", "hash"},
                                  {"authorityKeyIdentifier", "keyid"},
                                  {"subjectAltName", san}},
                   .lifetime_s = lifetime.count()};
  Key key = SIE_TRY(newKey(request.key_type));
  Cert cert = SIE_TRY(sign(t, key.get(), ca_cert.get(), ca_key.get()));
  const std::string out = request.out_dir.empty() ? dir_ : request.out_dir;
  IssuedIdentity issued{.spiffe_id = id,
                        .serial = serialHex(X509_get0_serialNumber(cert.get())),
                        .cert_file = out + "/" + fileBase(request.name) + ".crt",
                        .key_file = out + "/" + fileBase(request.name) + ".key",
                        .not_after_s = asn1Seconds(X509_get0_notAfter(cert.get()))};
  Json index = SIE_TRY(readIndex(dir_));
  index["issued"].push_back({{"serial", issued.serial},
                             {"id", id},
                             {"lifetimeSeconds", lifetime.count()},
                             {"notAfter", issued.not_after_s},
                             {"revoked", false}});
  SIE_CHECK(writeFileAtomically(issued.key_file, SIE_TRY(pemOfKey(key.get())), 0600));
  SIE_CHECK(writeFileAtomically(issued.cert_file, SIE_TRY(pemOf(cert.get())), 0644));
  SIE_CHECK(writeIndex(dir_, index));
  return issued;
}

Result<IssuedIdentity> SiteCa::renew(const std::string& cert_file, std::chrono::seconds lifetime) {
  Cert old = SIE_TRY(readCert(cert_file));
  auto [ca_cert, ca_key] = SIE_TRY(loadCa(dir_));
  if (X509_check_issued(ca_cert.get(), old.get()) != X509_V_OK) {
    return fail(Errc::kInvalidArgument, "this CA did not issue it", cert_file);
  }
  Json index = SIE_TRY(readIndex(dir_));
  const std::string old_serial = serialHex(X509_get0_serialNumber(old.get()));
  Json* entry = nullptr;
  for (auto& e : index["issued"]) {
    if (e.value("serial", "") == old_serial) entry = &e;
  }
  if (entry == nullptr) return fail(Errc::kNotFound, "not in this CA's index", cert_file);
  if (entry->value("revoked", false)) {
    return fail(Errc::kPermissionDenied, "it was revoked; issue a new identity instead", cert_file);
  }
  if (lifetime.count() <= 0) lifetime = std::chrono::seconds(entry->value("lifetimeSeconds", 0));
  if (lifetime.count() <= 0) lifetime = defaultLifetime(IdentityKind::kClient);
  Cert cert(X509_dup(old.get()));
  if (!cert) return tl::unexpected(sslError("X509_dup"));
  SIE_CHECK(setRandomSerial(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(lifetime.count()));
  if (X509_sign(cert.get(), ca_key.get(), digestFor(ca_key.get())) == 0) {
    return tl::unexpected(sslError("cannot sign the certificate"));
  }
  IssuedIdentity issued{.spiffe_id = http::uriSanOf(cert.get()),
                        .serial = serialHex(X509_get0_serialNumber(cert.get())),
                        .cert_file = cert_file,
                        .not_after_s = asn1Seconds(X509_get0_notAfter(cert.get()))};
  index["issued"].push_back({{"serial", issued.serial},
                             {"id", issued.spiffe_id},
                             {"lifetimeSeconds", lifetime.count()},
                             {"notAfter", issued.not_after_s},
                             {"revoked", false},
                             {"renews", old_serial}});
  SIE_CHECK(writeFileAtomically(cert_file, SIE_TRY(pemOf(cert.get())), 0644));
  SIE_CHECK(writeIndex(dir_, index));
  return issued;
}

Status SiteCa::revoke(std::string_view cert_file_or_serial) {
  std::string serial(cert_file_or_serial);
  std::error_code ec;
  if (fs::is_regular_file(serial, ec)) {
    Cert cert = SIE_TRY(readCert(serial));
    serial = serialHex(X509_get0_serialNumber(cert.get()));
  }
  std::transform(serial.begin(), serial.end(), serial.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  Json index = SIE_TRY(readIndex(dir_));
  bool found = false;
  for (auto& e : index["issued"]) {
    if (e.value("serial", "") != serial) continue;
    found = true;
    if (!e.value("revoked", false)) {
      e["revoked"] = true;
      e["revokedAt"] = static_cast<std::int64_t>(std::time(nullptr));
    }
  }
  if (!found) {
    return fail(Errc::kNotFound,
                fmt::format("no certificate with serial {} was issued by this CA (sie pki "
                            "inspect FILE shows a certificate's serial)",
                            serial),
                dir_);
  }
  SIE_CHECK(writeIndex(dir_, index));
  return writeCrl();
}

Status SiteCa::writeCrl() {
  auto [ca_cert, ca_key] = SIE_TRY(loadCa(dir_));
  const Json index = SIE_TRY(readIndex(dir_));
  Crl crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_cert.get())) != 1) {
    return tl::unexpected(sslError("cannot make a CRL"));
  }
  std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME, ASN1_TIME_free>> now(
      X509_gmtime_adj(nullptr, -kBackdateSeconds));
  // A year ahead: a CRL past its next update locks everyone out; revoking rewrites it anyway.
  std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME, ASN1_TIME_free>> next(
      X509_gmtime_adj(nullptr, 365L * 24 * 3600));
  X509_CRL_set1_lastUpdate(crl.get(), now.get());
  X509_CRL_set1_nextUpdate(crl.get(), next.get());
  for (const auto& e : index["issued"]) {
    if (!e.value("revoked", false)) continue;
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, e.value("serial", "").c_str()) == 0) continue;
    Bignum bn(raw);
    X509_REVOKED* revoked = X509_REVOKED_new();
    ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn.get(), nullptr);
    std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME, ASN1_TIME_free>> when(
        ASN1_TIME_set(nullptr, static_cast<time_t>(e.value("revokedAt", std::int64_t{0}))));
    X509_REVOKED_set_serialNumber(revoked, serial);
    X509_REVOKED_set_revocationDate(revoked, when.get());
    ASN1_INTEGER_free(serial);
    X509_CRL_add0_revoked(crl.get(), revoked);
  }
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), ca_key.get(), digestFor(ca_key.get())) == 0) {
    return tl::unexpected(sslError("cannot sign the CRL"));
  }
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) {
    return tl::unexpected(sslError("cannot encode the CRL"));
  }
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio.get(), &mem);
  return writeFileAtomically(crlFile(), std::string_view(mem->data, mem->length), 0644);
}

Result<std::vector<unsigned char>> SiteCa::signData(std::string_view data) const {
  auto [ca_cert, ca_key] = SIE_TRY(loadCa(dir_));
  std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  std::size_t size = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, digestFor(ca_key.get()), nullptr, ca_key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, bytes, data.size()) != 1) {
    return tl::unexpected(sslError("cannot sign with the CA key"));
  }
  std::vector<unsigned char> signature(size);
  if (EVP_DigestSign(ctx.get(), signature.data(), &size, bytes, data.size()) != 1) {
    return tl::unexpected(sslError("cannot sign with the CA key"));
  }
  signature.resize(size);
  return signature;
}

Status verifyCaSignature(std::string_view data, std::span<const unsigned char> signature,
                         const std::string& ca_file) {
  Cert cert = SIE_TRY(readCert(ca_file));
  Key key(X509_get_pubkey(cert.get()));
  std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  if (!key || !ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, digestFor(key.get()), nullptr, key.get()) != 1) {
    return tl::unexpected(sslError("cannot read the CA certificate's key"));
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    opensslReason();  // clears the queue
    return fail(Errc::kCorrupt, "the site CA did not sign this", ca_file);
  }
  return ok();
}

Result<CertificateInfo> inspectCertificate(const std::string& pem_file) {
  Cert cert = SIE_TRY(readCert(pem_file));
  CertificateInfo info;
  info.subject = oneLine(X509_get_subject_name(cert.get()));
  info.issuer = oneLine(X509_get_issuer_name(cert.get()));
  info.serial = serialHex(X509_get0_serialNumber(cert.get()));
  info.spiffe_id = http::uriSanOf(cert.get());
  info.organization = http::organizationOf(cert.get());
  info.is_ca = X509_check_ca(cert.get()) != 0;
  info.not_before_s = asn1Seconds(X509_get0_notBefore(cert.get()));
  info.not_after_s = asn1Seconds(X509_get0_notAfter(cert.get()));
  const EVP_PKEY* key = X509_get0_pubkey(cert.get());
  info.key_type =
      key == nullptr                             ? "unknown"
      : EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? "Ed25519"
      : EVP_PKEY_get_id(key) == EVP_PKEY_EC
          ? "ECDSA P-256"
          : fmt::format("{} ({} bits)", OBJ_nid2sn(EVP_PKEY_get_id(key)), EVP_PKEY_get_bits(key));
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = gn->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                  static_cast<std::size_t>(ASN1_STRING_length(dns)));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
      const int length = ASN1_STRING_length(ip);
      std::array<char, INET6_ADDRSTRLEN> text{};
      if ((length == 4 || length == 16) &&
          ::inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), text.data(),
                      text.size()) != nullptr) {
        info.ip_addresses.emplace_back(text.data());
      }
    }
  }
  GENERAL_NAMES_free(names);
  return info;
}

std::int64_t issuedLifetime(const CertificateInfo& info) {
  return std::max<std::int64_t>(1, info.not_after_s - info.not_before_s - kBackdateSeconds);
}

Result<CertificateCaller> callerFromCertificate(std::string_view spiffe_id,
                                                std::string_view organization,
                                                std::string_view trust_domain) {
  const std::string prefix = fmt::format("spiffe://{}/", trust_domain);
  if (!spiffe_id.starts_with(prefix)) {
    return fail(
        Errc::kPermissionDenied,
        fmt::format("the certificate's identity '{}' is not in the trust domain '{}'",
                    spiffe_id.empty() ? "(none: no spiffe:// URI SAN)" : spiffe_id, trust_domain));
  }
  const std::string_view path = spiffe_id.substr(prefix.size());
  const auto slash = path.find('/');
  const std::string_view kind = path.substr(0, slash);
  const std::string_view name =
      slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  if (name.empty() || !validName(name, kind == "device")) {
    return fail(Errc::kPermissionDenied,
                fmt::format("'{}' is not a node/, client/ or device/ identity", spiffe_id));
  }
  CertificateCaller caller{.identity = std::string(spiffe_id)};
  if (kind == "node") {
    caller.role = Role::kOperator;  // another node forwards readings and escalates calls
  } else if (kind == "device") {
    caller.role = Role::kDevice;
    caller.sensors = fmt::format("{}/#", name);
  } else if (kind == "client") {
    // A client's role is its O=; never device, whose scope comes from a device identity.
    const auto role = parseRole(organization).value_or(Role::kViewer);
    caller.role = role == Role::kDevice ? Role::kViewer : role;
  } else {
    return fail(Errc::kPermissionDenied,
                fmt::format("'{}' is not a node/, client/ or device/ identity", spiffe_id));
  }
  return caller;
}

}  // namespace sie::security
