// `sie keys ls|add|rm`: the public keys a running node trusts for signed deploys (its
// trusted-keys folder, through the API). `sie keys generate` (sign_command.cc) works locally.
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/artifact_upload.h"
#include "cli/client_output.h"
#include "cli/commands.h"
#include "cli/node_client.h"
#include "core/file_text.h"

namespace sie::cli {
namespace {

struct KeyArgs {
  ClientOptions client;
  std::string file;
  std::string name;
  std::string id;
};

int list(const KeyArgs& args) {
  const NodeClient client("keys ls", args.client);
  auto reply = client.call({.method = "GET", .path = "/api/v1/keys"});
  if (!reply) return reply.error();
  if (printStructured(reply->body, client.format())) return kExitOk;
  std::cout << fmt::format("signatures {} on this node; keys in {}\n",
                           member(reply->body, "required") == true ? "required" : "not required",
                           cellText(member(reply->body, "folder")));
  for (const auto& key : member(reply->body, "keys"))
    std::cout << cellText(member(key, "id")) << "\n";
  return kExitOk;
}

int add(const KeyArgs& args) {
  const NodeClient client("keys add", args.client);
  auto pem = readFileText(args.file);
  if (!pem) {
    client.complain(pem.error().str());
    return kExitLocal;
  }
  // The site CA's endorsement beside the key (`sie pki endorse`), which a node that requires
  // signatures asks for.
  std::map<std::string, std::string> headers;
  if (const std::string endorsement = fileHeader(args.file + ".endorsement");
      !endorsement.empty()) {
    headers["X-Sie-Endorsement"] = endorsement;
  }
  auto reply = client.call(
      {.method = "POST",
       .path = "/api/v1/keys" + (args.name.empty() ? "" : "?name=" + urlEncode(args.name)),
       .body = *pem,
       .content_type = "application/x-pem-file",
       .headers = headers});
  if (!reply) return reply.error();
  if (!printStructured(reply->body, client.format())) {
    std::cout << "trusted key " << cellText(member(reply->body, "id")) << "\n";
  }
  return kExitOk;
}

int remove(const KeyArgs& args) {
  const NodeClient client("keys rm", args.client);
  auto reply = client.call({.method = "DELETE", .path = "/api/v1/keys/" + urlEncode(args.id)});
  if (!reply) return reply.error();
  if (!printStructured(reply->body, client.format()))
    std::cout << "removed key " << args.id << "\n";
  return kExitOk;
}

}  // namespace

void addNodeKeyCommands(CLI::App& keys, int& exit_code) {
  auto ls_args = std::make_shared<KeyArgs>();
  auto* ls = keys.add_subcommand("ls", "The keys a running node trusts");
  addClientOptions(*ls, ls_args->client);
  ls->callback([ls_args, &exit_code] { exit_code = list(*ls_args); });

  auto add_args = std::make_shared<KeyArgs>();
  auto* add_cmd =
      keys.add_subcommand("add", "Make a running node trust a public key (a .pub file)");
  add_cmd->add_option("FILE", add_args->file, "PEM public key, e.g. from `sie keys generate`")
      ->required();
  add_cmd->add_option("--name", add_args->name, "File name on the node (default: the key id)");
  addClientOptions(*add_cmd, add_args->client);
  add_cmd->callback([add_args, &exit_code] { exit_code = add(*add_args); });

  auto rm_args = std::make_shared<KeyArgs>();
  auto* rm = keys.add_subcommand("rm", "Stop trusting a key");
  rm->add_option("ID", rm_args->id, "Key id (see `sie keys ls`)")->required();
  addClientOptions(*rm, rm_args->client);
  rm->callback([rm_args, &exit_code] { exit_code = remove(*rm_args); });
}

}  // namespace sie::cli
