// Subcommands of the `sie` command line. Each add*Command() adds its subcommand to `app`; when the
// subcommand runs, its callback stores the process exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace sie::cli {

void addRunCommand(CLI::App& app, int& exit_code);
void addSimCommand(CLI::App& app, int& exit_code);
void addEvalCommand(CLI::App& app, int& exit_code);
void addAuditCommand(CLI::App& app, int& exit_code);
// The site CA, offline: `pki init|issue|renew|revoke|inspect`.
void addPkiCommand(CLI::App& app, int& exit_code);
// The plugins of this build and every configuration key: `plugins [describe [NAME] [--markdown]]`.
void addPluginsCommand(CLI::App& app, int& exit_code);
// The sandbox layers this machine gives process functions: `doctor`.
void addDoctorCommand(CLI::App& app, int& exit_code);
// Named connections to nodes: `context set|use|ls|rm`.
void addContextCommand(CLI::App& app, int& exit_code);
void addModelCommand(CLI::App& app, int& exit_code);
// The clients of a running node's API: deploy, fn, invoke, logs, scale, status, and completion.
void addClientCommands(CLI::App& app, int& exit_code);
// Artifact signing, offline: `keys generate`, `sign` and `verify`. Creates the `keys` subcommand
// unless it exists; other commands may add to it (app.get_subcommand("keys")) once this ran.
void addSignCommands(CLI::App& app, int& exit_code);
// `keys ls|add|rm` against a node, under the `keys` command addSignCommands() made.
void addNodeKeyCommands(CLI::App& keys, int& exit_code);

}  // namespace sie::cli
