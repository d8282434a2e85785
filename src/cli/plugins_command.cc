// `sie plugins`: the sources, sinks, state backends and runtimes this binary has, and
// `sie plugins describe [NAME] [--markdown]`: their keys, or the whole configuration reference.
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "node/reference.h"

namespace sie::cli {
namespace {

// The plugins of this binary, or nullptr after printing why not.
std::unique_ptr<Plugins> loadPlugins() {
  auto plugins = std::make_unique<Plugins>();
  if (auto registered = registerBuiltinPlugins(*plugins); !registered) {
    std::cerr << "error: " << registered.error().str() << "\n";
    return nullptr;
  }
  return plugins;
}

}  // namespace

void addPluginsCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "plugins", "The sources, sinks, state backends and runtimes in this build, and their keys");
  cmd->callback([cmd, &exit_code] {
    if (!cmd->get_subcommands().empty()) return;
    auto plugins = loadPlugins();
    if (!plugins) {
      exit_code = 1;
      return;
    }
    std::cout << node::listPlugins(*plugins);
    exit_code = 0;
  });
  auto* describe = cmd->add_subcommand(
      "describe", "Every key of a plugin; without NAME, the whole configuration reference");
  auto name = std::make_shared<std::string>();
  auto markdown = std::make_shared<bool>(false);
  describe->add_option("name", *name, "A source, sink, state backend or runtime (mqtt, onnx, …)");
  describe->add_flag("--markdown", *markdown,
                     "The whole reference as Markdown (docs/PLUGINS.md is this output)");
  describe->callback([name, markdown, &exit_code] {
    auto plugins = loadPlugins();
    if (!plugins) {
      exit_code = 1;
      return;
    }
    if (name->empty()) {
      std::cout << (*markdown ? node::referenceMarkdown(*plugins) : node::listPlugins(*plugins));
      exit_code = 0;
      return;
    }
    auto text = node::describePlugin(*plugins, *name);
    if (!text) {
      std::cerr << "error: " << text.error().str() << "\n";
      exit_code = 2;
      return;
    }
    std::cout << *text;
    exit_code = 0;
  });
}

}  // namespace sie::cli
