// `sie deploy -f FILE|DIR ...`: posts every Function manifest document of the given files to a
// running node, one document per request, and reports each one's outcome.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include "cli/artifact_upload.h"
#include "cli/client_commands.h"
#include "cli/node_client.h"
#include "core/file_text.h"
#include "core/yaml_documents.h"

namespace sie::cli {
namespace {

struct DeployArgs {
  ClientOptions client;
  std::vector<std::string> paths;
  // A rollout instead of a switch: the new version deploys beside the serving one.
  int canary = -1;  // percent of sensors; -1: not a canary
  bool shadow = false;
  bool blue_green = false;
  double max_error_rate = -1;
  double max_latency_ms = -1;
  int min_invocations = -1;
  bool no_upload = false;  // the files the manifests name are on the node already
  bool rollback = false;   // an older signed release, on purpose
};

// "?strategy=canary&weight=10&..." for a rollout deploy, "" for a plain one.
std::string rolloutQuery(const DeployArgs& a) {
  std::string q;
  const auto add = [&](const std::string& key, const std::string& value) {
    q += (q.empty() ? "?" : "&") + key + "=" + value;
  };
  if (a.canary >= 0) {
    add("strategy", "canary");
    add("weight", std::to_string(a.canary));
  } else if (a.shadow) {
    add("strategy", "shadow");
  } else if (a.blue_green) {
    add("strategy", "blue-green");
  } else {
    return "";
  }
  if (a.max_error_rate >= 0) add("maxErrorRate", fmt::format("{}", a.max_error_rate));
  if (a.max_latency_ms >= 0) add("maxLatencyMs", fmt::format("{}", a.max_latency_ms));
  if (a.min_invocations >= 0) add("minInvocations", std::to_string(a.min_invocations));
  return q;
}

struct Manifest {
  std::string file;  // as the user named it, for messages
  YamlDocument doc;
  std::string name;       // metadata.name, or "file#k" when it cannot be read locally
  std::string signature;  // FILE.sig (`sie sign`), base64, for the X-Sie-Signature header
  // FILE.bundle and FILE.bundle.sig (`sie sign --bundle`), base64, for X-Sie-Bundle and
  // X-Sie-Bundle-Signature; "" when the file has no bundle.
  std::string bundle;
  std::string bundle_signature;
};

// The name only labels progress and results; the node parses and judges the document itself, so
// a document that does not parse here is still sent and the node's message (with line) shown.
std::string peekName(const std::string& text, const std::string& fallback) {
  try {
    const YAML::Node doc = YAML::Load(text);
    if (doc.IsMap() && doc["metadata"] && doc["metadata"]["name"]) {
      return doc["metadata"]["name"].as<std::string>();
    }
  } catch (const YAML::Exception&) {
  }
  return fallback;
}

// Every file named, or every *.yaml / *.yml directly in a folder named (sorted). All are read
// before anything is deployed, so a mistyped path deploys nothing.
bool collectFiles(const NodeClient& client, const std::vector<std::string>& paths,
                  std::vector<std::pair<std::string, std::string>>& files) {
  namespace fs = std::filesystem;
  for (const std::string& path : paths) {
    std::error_code ec;
    std::vector<std::string> names;
    if (fs::is_directory(path, ec)) {
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        const auto ext = entry.path().extension();
        if ((ext == ".yaml" || ext == ".yml") && entry.is_regular_file(ec)) {
          names.push_back(entry.path().string());
        }
      }
      if (ec) {
        client.complain(fmt::format("cannot list {}: {}", path, ec.message()));
        return false;
      }
      if (names.empty()) {
        client.complain(fmt::format("{} holds no *.yaml or *.yml files", path));
        return false;
      }
      std::sort(names.begin(), names.end());
    } else if (fs::exists(path, ec)) {
      names.push_back(path);
    } else {
      client.complain(fmt::format("{}: no such file or folder", path));
      return false;
    }
    for (const std::string& name : names) {
      auto text = readFileText(name);
      if (!text) {
        client.complain(text.error().str());
        return false;
      }
      files.emplace_back(name, std::move(*text));
    }
  }
  return true;
}

// RESULT column: created, unchanged, or updated (was X).
std::string outcome(const Json& body) {
  const Json& changed = member(body, "changed");
  const Json& previous_field = member(body, "previous");
  const std::string previous = previous_field.is_string() ? previous_field.get<std::string>() : "";
  if (changed.is_boolean() && !changed.get<bool>()) return "unchanged";
  if (previous.empty()) return "created";
  return fmt::format("updated (was {})", previous);
}

int runDeploy(const DeployArgs& args) {
  const NodeClient client("deploy", args.client);
  std::vector<std::pair<std::string, std::string>> files;
  if (!collectFiles(client, args.paths, files)) return kExitLocal;
  std::vector<Manifest> manifests;
  for (const auto& [file, text] : files) {
    // A signed file is deployed as signed: its bytes and FILE.sig go to the node unchanged.
    const std::string signature = signatureHeader(file);
    const std::string bundle = fileHeader(file + ".bundle");
    const std::string bundle_signature = bundle.empty() ? "" : fileHeader(file + ".bundle.sig");
    if (!bundle.empty() && bundle_signature.empty()) {
      client.complain(
          fmt::format("{}.bundle has no signature ({}.bundle.sig); sign the bundle "
                      "again with `sie sign --bundle {} --key KEY`",
                      file, file, file));
      return kExitLocal;
    }
    auto docs = splitYamlDocuments(text);
    std::erase_if(docs, [](const YamlDocument& doc) { return !hasYamlContent(doc.text); });
    if ((!signature.empty() || !bundle.empty()) && docs.size() != 1) {
      client.complain(
          fmt::format("{} is signed but holds {} manifests; sign one manifest per "
                      "file",
                      file, docs.size()));
      return kExitLocal;
    }
    int k = 0;
    for (YamlDocument& doc : docs) {
      ++k;
      std::string name = peekName(doc.text, fmt::format("{}#{}", file, k));
      if (!signature.empty() || !bundle.empty()) doc.text = text;  // the signed bytes, exactly
      manifests.push_back(
          {file, std::move(doc), std::move(name), signature, bundle, bundle_signature});
    }
  }
  if (manifests.empty()) {
    client.complain("the files hold no manifests");
    return kExitLocal;
  }

  const bool progress = isatty(STDERR_FILENO) != 0;
  std::vector<std::vector<std::string>> rows;
  Json responses = Json::array();
  bool refused = false;
  for (std::size_t i = 0; i < manifests.size(); ++i) {
    const Manifest& m = manifests[i];
    if (progress)
      std::cerr << fmt::format("deploying {} ({}/{})…\n", m.name, i + 1, manifests.size());
    std::map<std::string, std::string> headers;
    if (!m.signature.empty()) headers["X-Sie-Signature"] = m.signature;
    if (!m.bundle.empty()) {
      headers["X-Sie-Bundle"] = m.bundle;
      headers["X-Sie-Bundle-Signature"] = m.bundle_signature;
    }
    if (args.rollback) headers["X-Sie-Rollback"] = "true";
    if (!args.no_upload) {
      auto artifacts = uploadManifestFiles(client, m.file, m.doc.text, progress);
      if (!artifacts) return artifacts.error();
      if (!artifacts->empty()) headers["X-Sie-Artifacts"] = *artifacts;
    }
    auto reply = client.callRaw({.method = "POST",
                                 .path = "/api/v1/functions" + rolloutQuery(args),
                                 .body = m.doc.text,
                                 .content_type = "application/yaml",
                                 .headers = headers});
    // Unreachable: the rest would fail the same way.
    if (!reply) return reply.error();
    if (!reply->ok()) {
      Refusal refusal = parseRefusal(reply->status, reply->raw);
      refusal.where = documentWhere(refusal.where, m.file, m.doc.first_line);
      client.complain(refusalText(refusal));
      refused = true;
      continue;
    }
    const Json& name = member(reply->body, "name");
    rows.push_back({name.is_string() ? name.get<std::string>() : m.name,
                    cellText(member(reply->body, "version")), outcome(reply->body)});
    responses.push_back(reply->body);
  }
  if (!printStructured(responses, client.format()) && !rows.empty()) {
    std::cout << renderTable({"NAME", "VERSION", "RESULT"}, rows);
  }
  return refused ? kExitRefused : kExitOk;
}

}  // namespace

void addDeployCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DeployArgs>();
  CLI::App* cmd = app.add_subcommand(
      "deploy",
      "Deploy Function manifests to a running node. Multi-document files are split at '---'\n"
      "lines and each document is sent on its own; a refused one does not stop the rest.\n"
      "The files a manifest runs and reads (an onnx model, a process executable and\n"
      "spec.process.read), relative to its folder, are uploaded first (unless the node has\n"
      "them already), with FILE.sig beside each.");
  cmd->add_option(
         "-f,--file", args->paths,
         "Manifest file, or a folder whose *.yaml / *.yml files are all deployed; repeatable")
      ->type_name("PATH")
      ->required()
      ->allow_extra_args(false);
  auto* canary = cmd->add_option("--canary", args->canary,
                                 "Deploy beside the serving version and give it PERCENT of the "
                                 "sensors (sticky per sensor); see `sie rollout`")
                     ->type_name("PERCENT")
                     ->check(CLI::Range(0, 100));
  auto* shadow = cmd->add_flag("--shadow", args->shadow,
                               "Deploy beside the serving version as a shadow: it sees mirrored "
                               "events, its decisions are compared and never acted on");
  auto* blue_green = cmd->add_flag("--blue-green", args->blue_green,
                                   "Deploy warm beside the serving version; `sie rollout promote` "
                                   "switches at once");
  canary->excludes(shadow)->excludes(blue_green);
  shadow->excludes(blue_green);
  cmd->add_option("--max-error-rate", args->max_error_rate,
                  "Roll the candidate back when more of its invocations fail (default 0.05)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-latency-ms", args->max_latency_ms,
                  "Roll the candidate back when its p99 latency exceeds this")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--min-invocations", args->min_invocations,
                  "Objectives apply from this many candidate invocations (default 20)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--no-upload", args->no_upload,
                "Send the manifests only: the files they name are on the node already (absolute "
                "paths there)");
  cmd->add_flag("--rollback", args->rollback,
                "Deploy a bundle signed as an older release than one deployed before (the node "
                "refuses such a replay otherwise, and audits the rollback)");
  addClientOptions(*cmd, args->client);
  cmd->callback([args, &exit_code] { exit_code = runDeploy(*args); });
}

}  // namespace sie::cli
