// `sie context set|use|ls|rm`: named connections to nodes (client_context.h), so that
// `sie fn ls` reaches a TLS node with the right CA and certificate without flags.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/node_client.h"

namespace sie::cli {
namespace {

struct ContextArgs {
  ClientContext context;
  bool use = false;
};

// Paths are kept absolute: the CLI runs from any folder.
std::string absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  auto out = std::filesystem::absolute(path, ec);
  return ec ? path : out.lexically_normal().string();
}

int withConfig(std::string_view what, const std::function<int(ClientConfig&)>& change, bool save) {
  const std::string path = clientConfigPath();
  auto config = loadClientConfig(path);
  if (!config) {
    std::cerr << "sie context " << what << ": " << config.error().str() << "\n";
    return kExitLocal;
  }
  const int code = change(*config);
  if (code != kExitOk || !save) return code;
  if (auto saved = saveClientConfig(path, *config); !saved) {
    std::cerr << "sie context " << what << ": " << saved.error().str() << "\n";
    return kExitLocal;
  }
  return kExitOk;
}

}  // namespace

void addContextCommand(CLI::App& app, int& exit_code) {
  CLI::App* context = app.add_subcommand(
      "context", "Named connections to nodes (URL, CA, client certificate or token), kept in " +
                     clientConfigPath());
  context->require_subcommand(1);

  auto set_args = std::make_shared<ContextArgs>();
  auto* set = context->add_subcommand("set", "Create or change a context");
  set->add_option("NAME", set_args->context.name, "The context's name, e.g. plant-a")->required();
  set->add_option("--node", set_args->context.node, "The node's URL, e.g. https://10.0.0.5:8443")
      ->required();
  set->add_option("--ca", set_args->context.ca, "The site CA's certificate");
  set->add_option("--cert", set_args->context.cert, "This client's certificate");
  set->add_option("--key", set_args->context.key, "Its key");
  set->add_option("--token-file", set_args->context.token_file, "A bearer token's file instead");
  set->add_flag("--use", set_args->use, "Make it the current context");
  set->callback([set_args, &exit_code] {
    exit_code = withConfig(
        "set",
        [&](ClientConfig& config) {
          ClientContext c = set_args->context;
          for (std::string* path : {&c.ca, &c.cert, &c.key, &c.token_file}) *path = absolute(*path);
          std::erase_if(config.contexts, [&](const ClientContext& e) { return e.name == c.name; });
          config.contexts.push_back(c);
          if (set_args->use || config.current.empty()) config.current = c.name;
          std::cout << fmt::format("context {} -> {}{}\n", c.name, c.node,
                                   config.current == c.name ? " (current)" : "");
          return kExitOk;
        },
        true);
  });

  auto use_name = std::make_shared<std::string>();
  auto* use = context->add_subcommand("use", "Make a context the current one");
  use->add_option("NAME", *use_name, "The context")->required();
  use->callback([use_name, &exit_code] {
    exit_code = withConfig(
        "use",
        [&](ClientConfig& config) {
          if (config.find(*use_name) == nullptr || use_name->empty()) {
            std::cerr << "sie context use: no context '" << *use_name << "' (sie context ls)\n";
            return kExitLocal;
          }
          config.current = *use_name;
          return kExitOk;
        },
        true);
  });

  auto* ls = context->add_subcommand("ls", "The contexts; * marks the current one");
  ls->callback([&exit_code] {
    exit_code = withConfig(
        "ls",
        [](ClientConfig& config) {
          std::vector<std::vector<std::string>> rows;
          for (const auto& c : config.contexts) {
            rows.push_back(
                {c.name == config.current ? "*" : "", c.name, c.node,
                 c.cert.empty() ? (c.token_file.empty() ? "-" : "token") : "certificate"});
          }
          std::cout << renderTable({"", "NAME", "NODE", "CREDENTIAL"}, rows);
          return kExitOk;
        },
        false);
  });

  auto rm_name = std::make_shared<std::string>();
  auto* rm = context->add_subcommand("rm", "Remove a context");
  rm->add_option("NAME", *rm_name, "The context")->required();
  rm->callback([rm_name, &exit_code] {
    exit_code = withConfig(
        "rm",
        [&](ClientConfig& config) {
          const auto removed = std::erase_if(
              config.contexts, [&](const ClientContext& e) { return e.name == *rm_name; });
          if (removed == 0) {
            std::cerr << "sie context rm: no context '" << *rm_name << "'\n";
            return kExitLocal;
          }
          if (config.current == *rm_name) config.current.clear();
          return kExitOk;
        },
        true);
  });
}

}  // namespace sie::cli
