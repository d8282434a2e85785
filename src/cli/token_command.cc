// `sie token create|ls|revoke`: the bearer tokens callers present to a node. Through the node's
// API (an admin token), or with --data-dir straight in a node's data folder, which is how the
// first tokens are made on the node's host before anyone can call it.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/client_commands.h"
#include "cli/client_output.h"
#include "cli/node_client.h"
#include "security/tokens.h"
#include "sie/config.h"

namespace sie::cli {
namespace {

struct TokenArgs {
  ClientOptions client;
  std::string data_dir;  // set: work on <data_dir>/security directly
  std::string identity;
  std::string role = "viewer";
  std::string ttl = "24h";
  std::string sensors;
  std::string id;
};

std::string expiryText(std::int64_t expires_ns) {
  if (expires_ns == 0) return "never";
  const auto left = std::chrono::nanoseconds(
      expires_ns - std::chrono::system_clock::now().time_since_epoch().count());
  if (left.count() <= 0) return "expired";
  return fmt::format("in {}h{:02}m", std::chrono::duration_cast<std::chrono::hours>(left).count(),
                     std::chrono::duration_cast<std::chrono::minutes>(left).count() % 60);
}

Result<std::unique_ptr<security::TokenStore>> localStore(const TokenArgs& args) {
  return security::TokenStore::open(args.data_dir + "/security", systemClock());
}

int create(const TokenArgs& args) {
  const std::string what = "token create";
  if (!args.data_dir.empty()) {
    const auto role = security::parseRole(args.role);
    const auto ttl = parseDuration(args.ttl);
    if (!role || !ttl) {
      std::cerr << "sie " << what << ": "
                << (!role ? fmt::format("--role must be one of {}", security::roleNames())
                          : "--ttl: " + ttl.error().message)
                << "\n";
      return kExitLocal;
    }
    auto store = localStore(args);
    auto issued = store ? (*store)->create(args.identity, *role,
                                           std::chrono::duration_cast<std::chrono::seconds>(*ttl),
                                           args.sensors)
                        : tl::unexpected(store.error());
    if (!issued) {
      std::cerr << "sie " << what << ": " << issued.error().str() << "\n";
      return kExitLocal;
    }
    std::cout << issued->text << "\n";
    return kExitOk;
  }
  const NodeClient client(what, args.client);
  auto reply = client.call({.method = "POST",
                            .path = "/api/v1/tokens",
                            .body = Json{{"identity", args.identity},
                                         {"role", args.role},
                                         {"ttl", args.ttl},
                                         {"sensors", args.sensors}}
                                        .dump()});
  if (!reply) return reply.error();
  if (!printStructured(reply->body, client.format())) {
    std::cout << cellText(member(reply->body, "token")) << "\n";
  }
  return kExitOk;
}

int list(const TokenArgs& args) {
  Json tokens = Json::array();
  if (!args.data_dir.empty()) {
    auto store = localStore(args);
    auto all = store ? (*store)->list() : tl::unexpected(store.error());
    if (!all) {
      std::cerr << "sie token ls: " << all.error().str() << "\n";
      return kExitLocal;
    }
    for (const auto& t : *all) {
      tokens.push_back({{"id", t.id},
                        {"identity", t.identity},
                        {"role", security::roleName(t.role)},
                        {"expiresNs", t.expires_ns},
                        {"revoked", t.revoked}});
    }
  } else {
    const NodeClient client("token ls", args.client);
    auto reply = client.call({.method = "GET", .path = "/api/v1/tokens"});
    if (!reply) return reply.error();
    tokens = member(reply->body, "tokens");
  }
  if (printStructured(Json{{"tokens", tokens}}, args.client.format())) return kExitOk;
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : tokens) {
    const bool revoked = member(t, "revoked") == true;
    rows.push_back({cellText(member(t, "id")), cellText(member(t, "identity")),
                    cellText(member(t, "role")),
                    revoked ? "revoked" : expiryText(member(t, "expiresNs").get<std::int64_t>())});
  }
  std::cout << renderTable({"ID", "IDENTITY", "ROLE", "EXPIRES"}, rows);
  return kExitOk;
}

int revoke(const TokenArgs& args) {
  if (!args.data_dir.empty()) {
    auto store = localStore(args);
    auto revoked = store ? (*store)->revoke(args.id) : tl::unexpected(store.error());
    if (!revoked) {
      std::cerr << "sie token revoke: " << revoked.error().str() << "\n";
      return kExitRefused;
    }
  } else {
    const NodeClient client("token revoke", args.client);
    auto reply = client.call({.method = "DELETE", .path = "/api/v1/tokens/" + urlEncode(args.id)});
    if (!reply) return reply.error();
  }
  std::cout << "revoked token " << args.id << "\n";
  return kExitOk;
}

void addDataDir(CLI::App& command, TokenArgs& args) {
  command.add_option("-d,--data-dir", args.data_dir,
                     "Work in this node data folder directly instead of through the API (on the "
                     "node's host, as the user the node runs as)");
}

}  // namespace

void addTokenCommand(CLI::App& app, int& exit_code) {
  CLI::App* token = app.add_subcommand(
      "token", "Bearer tokens for the node's API: each has an identity, a role and a lifetime");
  token->require_subcommand(1);

  auto create_args = std::make_shared<TokenArgs>();
  auto* create_cmd = token->add_subcommand(
      "create", "Issue a token and print it (shown this once; the node keeps only its hash)");
  create_cmd->add_option("IDENTITY", create_args->identity, "Who holds it, e.g. scada-dashboard")
      ->required();
  create_cmd->add_option("--role", create_args->role, "viewer, device, operator, deployer or admin")
      ->check(CLI::IsMember({"viewer", "device", "operator", "deployer", "admin"}))
      ->capture_default_str();
  create_cmd->add_option("--ttl", create_args->ttl, "Lifetime, e.g. 8h, 30d as 720h; 0: never")
      ->capture_default_str();
  create_cmd->add_option("--sensors", create_args->sensors,
                         "The sensors it may send readings for, e.g. 'plant/pump-7/#' (device "
                         "tokens: one device cannot speak for another)");
  addDataDir(*create_cmd, *create_args);
  addClientOptions(*create_cmd, create_args->client);
  create_cmd->callback([create_args, &exit_code] { exit_code = create(*create_args); });

  auto ls_args = std::make_shared<TokenArgs>();
  auto* ls = token->add_subcommand("ls", "The tokens: id, identity, role, expiry (no secrets)");
  addDataDir(*ls, *ls_args);
  addClientOptions(*ls, ls_args->client);
  ls->callback([ls_args, &exit_code] { exit_code = list(*ls_args); });

  auto revoke_args = std::make_shared<TokenArgs>();
  auto* revoke_cmd = token->add_subcommand("revoke", "Revoke a token; it is refused from then on");
  revoke_cmd->add_option("ID", revoke_args->id, "The token's id (sie token ls)")->required();
  addDataDir(*revoke_cmd, *revoke_args);
  addClientOptions(*revoke_cmd, revoke_args->client);
  revoke_cmd->callback([revoke_args, &exit_code] { exit_code = revoke(*revoke_args); });
}

}  // namespace sie::cli
