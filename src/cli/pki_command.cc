// `sie pki init|issue|renew|revoke|inspect|endorse`: the site's certificate authority, offline, on
// the host that keeps it. Keys are written 0600 and never printed.
#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/node_client.h"
#include "core/file_text.h"
#include "core/rfc3339.h"
#include "security/key_endorsement.h"
#include "security/pki.h"
#include "sie/config.h"

namespace sie::cli {
namespace {

struct PkiArgs {
  std::string dir = "./pki";
  std::string trust_domain;
  std::string key_type = "ecdsa-p256";
  std::string ttl;
  std::string kind;
  std::string name;
  std::string role = "viewer";
  std::vector<std::string> hosts;
  std::string out;
  std::string target;  // a certificate file, or a serial
};

std::string utc(std::int64_t seconds) { return formatRfc3339Seconds(seconds); }

int failed(std::string_view what, const Error& error) {
  std::cerr << "sie pki " << what << ": " << error.str() << "\n";
  return kExitLocal;
}

Result<std::chrono::seconds> lifetime(const std::string& ttl) {
  if (ttl.empty()) return std::chrono::seconds{0};
  const auto parsed = parseDuration(ttl);
  if (!parsed || parsed->count() <= 0) {
    return fail(Errc::kInvalidArgument,
                fmt::format("--ttl '{}' must be a positive duration, e.g. 24h or 720h", ttl));
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*parsed);
}

int init(const PkiArgs& args) {
  const auto type = security::parseKeyType(args.key_type);
  auto ttl = lifetime(args.ttl.empty() ? "87600h" : args.ttl);
  if (!ttl) return failed("init", ttl.error());
  auto ca = security::SiteCa::init(args.dir, args.trust_domain,
                                   type.value_or(security::KeyType::kEcdsaP256), *ttl);
  if (!ca) return failed("init", ca.error());
  std::cout << fmt::format(
      "site CA for spiffe://{} in {}: ca.crt (give it to every party), ca.key (keep it here; "
      "0600), crl.pem\nnext: sie pki issue node NAME --dir {} --host ADDRESS\n",
      ca->trustDomain(), args.dir, args.dir);
  return kExitOk;
}

int issue(const PkiArgs& args) {
  auto ca = security::SiteCa::open(args.dir);
  if (!ca) return failed("issue", ca.error());
  auto ttl = lifetime(args.ttl);
  if (!ttl) return failed("issue", ttl.error());
  const auto kind = security::parseKind(args.kind);
  const auto role = security::parseRole(args.role);
  if (!kind || !role) {
    return failed("issue",
                  Error{Errc::kInvalidArgument,
                        !kind ? "KIND must be node, client or device"
                              : fmt::format("--role must be one of {}", security::roleNames())});
  }
  if (*kind != security::IdentityKind::kClient && args.role != "viewer") {
    return failed("issue", Error{Errc::kInvalidArgument,
                                 "--role is for clients: a node acts as an operator, a device "
                                 "sends readings for its own sensors"});
  }
  auto issued = ca->issue(
      {.kind = *kind,
       .name = args.name,
       .role = *role,
       .hosts = args.hosts,
       .lifetime = *ttl,
       .out_dir = args.out,
       .key_type = security::parseKeyType(args.key_type).value_or(security::KeyType::kEcdsaP256)});
  if (!issued) return failed("issue", issued.error());
  std::cout << fmt::format("{}\n  certificate {}\n  key         {} (0600)\n  valid until {}\n",
                           issued->spiffe_id, issued->cert_file, issued->key_file,
                           utc(issued->not_after_s));
  return kExitOk;
}

int renew(const PkiArgs& args) {
  auto ca = security::SiteCa::open(args.dir);
  if (!ca) return failed("renew", ca.error());
  auto ttl = lifetime(args.ttl);
  if (!ttl) return failed("renew", ttl.error());
  auto renewed = ca->renew(args.target, *ttl);
  if (!renewed) return failed("renew", renewed.error());
  std::cout << fmt::format("{} renewed: {} valid until {} (same key)\n", renewed->spiffe_id,
                           renewed->cert_file, utc(renewed->not_after_s));
  return kExitOk;
}

int revoke(const PkiArgs& args) {
  auto ca = security::SiteCa::open(args.dir);
  if (!ca) return failed("revoke", ca.error());
  if (auto revoked = ca->revoke(args.target); !revoked) return failed("revoke", revoked.error());
  std::cout << fmt::format(
      "revoked {}; {} rewritten (nodes that load it refuse the certificate within seconds)\n",
      args.target, ca->crlFile());
  return kExitOk;
}

int inspect(const PkiArgs& args) {
  auto info = security::inspectCertificate(args.target);
  if (!info) return failed("inspect", info.error());
  const std::int64_t now = std::time(nullptr);
  const std::string state = now < info->not_before_s  ? "not yet valid"
                            : now > info->not_after_s ? "EXPIRED"
                                                      : "valid";
  std::cout << fmt::format("subject    {}\n", info->subject);
  std::cout << fmt::format("identity   {}\n", info->spiffe_id.empty() ? "-" : info->spiffe_id);
  if (!info->organization.empty()) std::cout << fmt::format("O          {}\n", info->organization);
  std::cout << fmt::format("issuer     {}\n", info->issuer);
  std::cout << fmt::format("serial     {}\n", info->serial);
  std::cout << fmt::format("key        {}{}\n", info->key_type, info->is_ca ? " (a CA)" : "");
  std::cout << fmt::format("valid      {} .. {} ({})\n", utc(info->not_before_s),
                           utc(info->not_after_s), state);
  for (const auto& dns : info->dns_names) std::cout << fmt::format("dns        {}\n", dns);
  for (const auto& ip : info->ip_addresses) std::cout << fmt::format("ip         {}\n", ip);
  return kExitOk;
}

int endorse(const PkiArgs& args) {
  auto ca = security::SiteCa::open(args.dir);
  if (!ca) return failed("endorse", ca.error());
  auto pem = readFileText(args.target, 64 * 1024);
  if (!pem) return failed("endorse", pem.error());
  auto doc = security::endorseKey(*ca, *pem);
  if (!doc) return failed("endorse", doc.error());
  const std::string out = args.out.empty() ? args.target + ".endorsement" : args.out;
  if (auto written = writeFileAtomically(out, *doc); !written) {
    return failed("endorse", written.error());
  }
  std::cout << fmt::format("endorsed {} as spiffe://{}: {} (`sie keys add {}` sends it)\n",
                           args.target, ca->trustDomain(), out, args.target);
  return kExitOk;
}

void addDir(CLI::App& command, PkiArgs& args) {
  command.add_option("--dir", args.dir, "The site CA's folder")->capture_default_str();
}

}  // namespace

void addPkiCommand(CLI::App& app, int& exit_code) {
  CLI::App* pki = app.add_subcommand(
      "pki",
      "The site's certificate authority: identities (SPIFFE IDs) for nodes, clients and "
      "devices");
  pki->require_subcommand(1);

  auto init_args = std::make_shared<PkiArgs>();
  auto* init_cmd = pki->add_subcommand("init", "Create the site CA and an empty CRL");
  init_cmd
      ->add_option("--trust-domain", init_args->trust_domain,
                   "The site's name, e.g. plant-a (or spiffe://plant-a)")
      ->required();
  init_cmd->add_option("--key-type", init_args->key_type, "ecdsa-p256 or ed25519")
      ->check(CLI::IsMember({"ecdsa-p256", "ed25519"}))
      ->capture_default_str();
  init_cmd->add_option("--ttl", init_args->ttl, "The CA's lifetime (default 87600h: 10 years)");
  addDir(*init_cmd, *init_args);
  init_cmd->callback([init_args, &exit_code] { exit_code = init(*init_args); });

  auto issue_args = std::make_shared<PkiArgs>();
  auto* issue_cmd = pki->add_subcommand(
      "issue", "Issue a certificate and key: NAME.crt and NAME.key (0600) in --out");
  issue_cmd->add_option("KIND", issue_args->kind, "node, client or device")
      ->check(CLI::IsMember({"node", "client", "device"}))
      ->required();
  issue_cmd
      ->add_option("NAME", issue_args->name,
                   "Its name: edge-1, alice, or a device's sensor prefix (rotating/pump1)")
      ->required();
  issue_cmd
      ->add_option("--role", issue_args->role,
                   "A client's role: viewer, operator, deployer "
                   "or admin")
      ->capture_default_str();
  issue_cmd->add_option("--host", issue_args->hosts,
                        "A node's DNS name or IP address callers use (repeatable; localhost, "
                        "127.0.0.1 and ::1 are always in)");
  issue_cmd->add_option("--ttl", issue_args->ttl,
                        "Lifetime (default: clients 24h, nodes 168h, devices 720h)");
  issue_cmd->add_option("--out", issue_args->out, "Where the files go (default: --dir)");
  issue_cmd->add_option("--key-type", issue_args->key_type, "ecdsa-p256 or ed25519")
      ->check(CLI::IsMember({"ecdsa-p256", "ed25519"}))
      ->capture_default_str();
  addDir(*issue_cmd, *issue_args);
  issue_cmd->callback([issue_args, &exit_code] { exit_code = issue(*issue_args); });

  auto renew_args = std::make_shared<PkiArgs>();
  auto* renew_cmd = pki->add_subcommand(
      "renew", "Issue a certificate again for a new lifetime, same identity and key, in place");
  renew_cmd->add_option("FILE", renew_args->target, "The certificate (PEM)")->required();
  renew_cmd->add_option("--ttl", renew_args->ttl, "Lifetime (default: as before)");
  addDir(*renew_cmd, *renew_args);
  renew_cmd->callback([renew_args, &exit_code] { exit_code = renew(*renew_args); });

  auto revoke_args = std::make_shared<PkiArgs>();
  auto* revoke_cmd =
      pki->add_subcommand("revoke", "Revoke a certificate and rewrite the CRL nodes load");
  revoke_cmd->add_option("TARGET", revoke_args->target, "The certificate file, or its serial")
      ->required();
  addDir(*revoke_cmd, *revoke_args);
  revoke_cmd->callback([revoke_args, &exit_code] { exit_code = revoke(*revoke_args); });

  auto endorse_args = std::make_shared<PkiArgs>();
  auto* endorse_cmd = pki->add_subcommand(
      "endorse",
      "Endorse a signing key (a .pub file from `sie keys generate`) with the site CA: writes "
      "KEY.pub.endorsement, without which a node that requires signatures will not trust it");
  endorse_cmd->add_option("KEY", endorse_args->target, "The public key (PEM)")->required();
  endorse_cmd->add_option("--out", endorse_args->out, "Where to write (default KEY.endorsement)");
  addDir(*endorse_cmd, *endorse_args);
  endorse_cmd->callback([endorse_args, &exit_code] { exit_code = endorse(*endorse_args); });

  auto inspect_args = std::make_shared<PkiArgs>();
  auto* inspect_cmd = pki->add_subcommand(
      "inspect", "Show a certificate: identity, role, issuer, serial, validity, names");
  inspect_cmd->add_option("FILE", inspect_args->target, "The certificate (PEM)")->required();
  inspect_cmd->callback([inspect_args, &exit_code] { exit_code = inspect(*inspect_args); });
}

}  // namespace sie::cli
