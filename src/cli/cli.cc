#include "cli/cli.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace sie::cli {

int main(int argc, char** argv) {
  CLI::App app{
      "sie - the Serverless Industrial Edge runtime.\n"
      "Runs an edge node that ingests sensor readings, triggers stateless functions on them,\n"
      "acts on their decisions and records everything in local state.",
      "sie"};
  app.set_version_flag("-V,--version", fmt::format("sie {}", SIE_VERSION));
  app.require_subcommand(1);
  app.footer("Run `sie COMMAND --help` for the options of a command. Start with `sie run`.");
  int exit_code = 0;
  addRunCommand(app, exit_code);
  addClientCommands(app, exit_code);
  addSignCommands(app, exit_code);
  addNodeKeyCommands(*app.get_subcommand("keys"), exit_code);
#ifdef SIE_WITH_SIM
  addSimCommand(app, exit_code);
  addEvalCommand(app, exit_code);
#endif
  addAuditCommand(app, exit_code);
  addPkiCommand(app, exit_code);
  addContextCommand(app, exit_code);
  addDoctorCommand(app, exit_code);
  addPluginsCommand(app, exit_code);
#ifdef SIE_WITH_ONNX
  addModelCommand(app, exit_code);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

}  // namespace sie::cli
