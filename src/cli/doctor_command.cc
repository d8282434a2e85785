// `sie doctor`: what this machine gives a node, starting with the sandbox of process functions
// (the same report the node logs at startup). Exit 1 when process functions cannot start here.
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "exec/process/sandbox_layers.h"

namespace sie::cli {

void addDoctorCommand(CLI::App& app, int& exit_code) {
  auto* doctor = app.add_subcommand(
      "doctor", "What this kernel and user give the sandbox of process functions, and what not");
  doctor->callback([&exit_code] {
    const process::SandboxLayers layers = process::probeSandboxLayers();
    std::cout << "sandbox of process functions:\n";
    for (const auto& line : process::describe(layers)) {
      std::cout << fmt::format("  {}  {}\n", line.ok ? "ok" : "!!", line.text);
    }
    exit_code = layers.landlock_abi > 0 && layers.seccomp ? 0 : 1;
  });
}

}  // namespace sie::cli
