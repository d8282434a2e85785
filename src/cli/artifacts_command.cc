// `sie artifacts ls|push|rm`: the models, executables and files beside them a running node
// stores for the manifests deployed through its API (`sie deploy` pushes them itself).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/artifact_upload.h"
#include "cli/client_commands.h"
#include "cli/client_output.h"
#include "cli/node_client.h"

namespace sie::cli {
namespace {

struct ArtifactArgs {
  ClientOptions client;
  std::vector<std::string> files;
  std::string sha256;
};

int list(const ArtifactArgs& args) {
  const NodeClient client("artifacts ls", args.client);
  auto reply = client.call({.method = "GET", .path = "/api/v1/artifacts"});
  if (!reply) return reply.error();
  if (printStructured(reply->body, client.format())) return kExitOk;
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : member(reply->body, "artifacts")) {
    std::string users;
    for (const auto& user : member(a, "usedBy"))
      users += (users.empty() ? "" : ", ") + cellText(user);
    rows.push_back({cellText(member(a, "name")), cellText(member(a, "sha256")).substr(0, 12),
                    cellText(member(a, "size")), member(a, "signed") == true ? "yes" : "no",
                    users.empty() ? "-" : users});
  }
  std::cout << renderTable({"NAME", "SHA256", "BYTES", "SIGNED", "USED BY"}, rows);
  return kExitOk;
}

int push(const ArtifactArgs& args) {
  const NodeClient client("artifacts push", args.client);
  const bool progress = isatty(STDERR_FILENO) != 0;
  Json out = Json::array();
  std::vector<std::vector<std::string>> rows;
  for (const std::string& file : args.files) {
    auto uploaded = uploadFile(client, file, file, progress);
    if (!uploaded) return uploaded.error();
    out.push_back({{"file", file},
                   {"sha256", uploaded->sha256},
                   {"size", uploaded->size},
                   {"sent", uploaded->sent}});
    rows.push_back({file, uploaded->sha256, uploaded->sent ? "uploaded" : "stored already"});
  }
  if (!printStructured(out, client.format())) {
    std::cout << renderTable({"FILE", "SHA256", "RESULT"}, rows);
  }
  return kExitOk;
}

int remove(const ArtifactArgs& args) {
  const NodeClient client("artifacts rm", args.client);
  auto reply =
      client.call({.method = "DELETE", .path = "/api/v1/artifacts/" + urlEncode(args.sha256)});
  if (!reply) return reply.error();
  if (!printStructured(reply->body, client.format()))
    std::cout << "removed artifact " << args.sha256 << "\n";
  return kExitOk;
}

}  // namespace

void addArtifactsCommand(CLI::App& app, int& exit_code) {
  CLI::App* artifacts = app.add_subcommand(
      "artifacts", "Models and executables stored on a running node (`sie deploy` uploads them)");
  artifacts->require_subcommand(1);

  auto ls_args = std::make_shared<ArtifactArgs>();
  auto* ls = artifacts->add_subcommand("ls", "The stored artifacts and the versions that run them");
  addClientOptions(*ls, ls_args->client);
  ls->callback([ls_args, &exit_code] { exit_code = list(*ls_args); });

  auto push_args = std::make_shared<ArtifactArgs>();
  auto* push_cmd = artifacts->add_subcommand(
      "push", "Upload files (with FILE.sig beside each, if any); prints their SHA-256");
  push_cmd->add_option("FILE", push_args->files, "File to upload")->required();
  addClientOptions(*push_cmd, push_args->client);
  push_cmd->callback([push_args, &exit_code] { exit_code = push(*push_args); });

  auto rm_args = std::make_shared<ArtifactArgs>();
  auto* rm = artifacts->add_subcommand("rm", "Delete a stored artifact no deployed version runs");
  rm->add_option("SHA256", rm_args->sha256, "Its digest (see `sie artifacts ls -o json`)")
      ->required();
  addClientOptions(*rm, rm_args->client);
  rm->callback([rm_args, &exit_code] { exit_code = remove(*rm_args); });
}

}  // namespace sie::cli
