// The `sie` command line: runs a node and is its client.
#pragma once

namespace sie::cli {

// Parses argv, runs the chosen subcommand, and returns the process exit code.
int main(int argc, char** argv);

}  // namespace sie::cli
