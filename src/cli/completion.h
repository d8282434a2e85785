// Shell completion scripts for `sie completion bash|zsh`, generated from the command tree itself
// so they cover every subcommand and option the binary has (sim, eval, model only when built in).
#pragma once

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace sie::cli {

// The script for `shell` ("bash" or "zsh"; "" for any other) completing the commands under
// `root`, which the script calls `program`. What a value completes to follows from the option:
// a fixed set (IsMember) completes its words; plain TEXT and types naming a FILE, PATH or DIR
// complete file names; other types (INT, URL, JSON) nothing. A positional called NAME completes
// the node's function names, fetched with `sie fn ls --names` (passing on --node when the line
// has it).
std::string completionScript(const CLI::App& root, std::string_view shell,
                             std::string_view program = "sie");

}  // namespace sie::cli
