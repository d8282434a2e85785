// The client subcommands that live in files of their own; addClientCommands() (commands.h) adds
// them with the rest.
#pragma once

#include <CLI/CLI.hpp>

namespace sie::cli {

void addDeployCommand(CLI::App& app, int& exit_code);
void addCompletionCommand(CLI::App& app, int& exit_code);
void addRolloutCommand(CLI::App& app, int& exit_code);
void addArtifactsCommand(CLI::App& app, int& exit_code);
void addTokenCommand(CLI::App& app, int& exit_code);

}  // namespace sie::cli
