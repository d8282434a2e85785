// A site's certificate authority and the identities it issues (OpenSSL). Every party on the
// plant network — nodes, people and their scripts, devices — proves who it is with an X.509
// certificate whose URI SAN is its SPIFFE ID:
//
//   spiffe://<trust domain>/node/<name>     a node: serverAuth + clientAuth, DNS/IP SANs
//   spiffe://<trust domain>/client/<name>   a person or a script: clientAuth, O=<role>
//   spiffe://<trust domain>/device/<name>   a device: clientAuth, may send readings for <name>/#
//
// The CA folder holds ca.crt, ca.key (0600), crl.pem and issued.json (what was issued, what is
// revoked: the CRL is rebuilt from it). Keys are written 0600 and never printed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "security/access.h"
#include "sie/result.h"

namespace sie::security {

enum class KeyType : std::uint8_t { kEcdsaP256, kEd25519 };
enum class IdentityKind : std::uint8_t { kNode, kClient, kDevice };

std::string_view kindName(IdentityKind kind);
std::optional<IdentityKind> parseKind(std::string_view name);
std::optional<KeyType> parseKeyType(std::string_view name);  // "ecdsa-p256" | "ed25519"

// The default lifetime of each kind: clients 24 h, nodes 7 days (they renew themselves),
// devices 30 days.
std::chrono::seconds defaultLifetime(IdentityKind kind);

struct IssueRequest {
  IdentityKind kind = IdentityKind::kClient;
  std::string name;           // letters, digits, '.', '_', '-' and '/' (a device's sensor prefix)
  Role role = Role::kViewer;  // clients only
  // Nodes: the DNS names and IP addresses callers reach it by; localhost, 127.0.0.1 and ::1 are
  // always added.
  std::vector<std::string> hosts;
  std::chrono::seconds lifetime{0};  // 0: defaultLifetime(kind)
  std::string out_dir;               // "": the CA folder
  KeyType key_type = KeyType::kEcdsaP256;
};

struct IssuedIdentity {
  std::string spiffe_id;
  std::string serial;  // hex
  std::string cert_file;
  std::string key_file;
  std::int64_t not_after_s = 0;
};

class SiteCa {
 public:
  // Creates a CA in `dir` (made 0700) for `trust_domain` ("plant-a"; letters, digits, '.', '-'
  // and '_'); refuses a folder that already holds one.
  static Result<SiteCa> init(const std::string& dir, std::string_view trust_domain,
                             KeyType key_type, std::chrono::seconds lifetime);
  static Result<SiteCa> open(const std::string& dir);

  Result<IssuedIdentity> issue(const IssueRequest& request);
  // Issues `cert_file` again for `lifetime` (0: its previous lifetime) with the same identity
  // and key, and writes it over the file: a service that reloads it never sees a certificate
  // that does not match its key.
  Result<IssuedIdentity> renew(const std::string& cert_file, std::chrono::seconds lifetime = {});
  // Revokes a certificate (its file, or its serial in hex) and rewrites the CRL.
  Status revoke(std::string_view cert_file_or_serial);
  // The CA key's signature of `data` (Ed25519, or ECDSA over SHA-256), for statements the site
  // makes besides certificates (key_endorsement.h).
  [[nodiscard]] Result<std::vector<unsigned char>> signData(std::string_view data) const;

  [[nodiscard]] const std::string& trustDomain() const { return trust_domain_; }
  [[nodiscard]] std::string caFile() const { return dir_ + "/ca.crt"; }
  [[nodiscard]] std::string crlFile() const { return dir_ + "/crl.pem"; }

 private:
  SiteCa(std::string dir, std::string trust_domain)
      : dir_(std::move(dir)), trust_domain_(std::move(trust_domain)) {}
  Status writeCrl();

  std::string dir_;
  std::string trust_domain_;
};

// What a certificate says, for `sie pki inspect` and for checks.
struct CertificateInfo {
  std::string subject;
  std::string issuer;
  std::string serial;  // hex
  std::string spiffe_id;
  std::string organization;  // O=, a client's role
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::string key_type;  // "ECDSA P-256", "Ed25519", ...
  bool is_ca = false;
  std::int64_t not_before_s = 0;
  std::int64_t not_after_s = 0;
};

// Reads the first certificate in a PEM file.
Result<CertificateInfo> inspectCertificate(const std::string& pem_file);

// Checks `signature` of `data` (SiteCa::signData) against the CA certificate in `ca_file`;
// kCorrupt when it does not verify.
Status verifyCaSignature(std::string_view data, std::span<const unsigned char> signature,
                         const std::string& ca_file);

// Certificates start this long before they are issued: clocks drift.
inline constexpr std::int64_t kBackdateSeconds = 300;
// The lifetime a certificate was issued for (its validity without the backdating), at least 1 s.
std::int64_t issuedLifetime(const CertificateInfo& info);

// The caller a verified certificate speaks for: its SPIFFE ID must be in `trust_domain`.
struct CertificateCaller {
  std::string identity;  // the SPIFFE ID
  Role role = Role::kViewer;
  std::string sensors;  // a device's topic pattern, "" for any
};
Result<CertificateCaller> callerFromCertificate(std::string_view spiffe_id,
                                                std::string_view organization,
                                                std::string_view trust_domain);

}  // namespace sie::security
