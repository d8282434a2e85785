// `sie completion bash|zsh`. The scripts are generated from the CLI11 tree: one case arm per
// command path ("/fn/describe") listing its subcommands and options and how their values
// complete, and a small fixed driver per shell around them.
#include "cli/completion.h"

#include <cctype>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/client_commands.h"

namespace sie::cli {
namespace {

enum class ValueKind { kNone, kWords, kFiles, kFunctions };

struct Value {
  ValueKind kind = ValueKind::kFiles;
  std::vector<std::string> words;  // kWords
};

struct OptionInfo {
  std::vector<std::string> spellings;  // "-o", "--output"
  std::string description;
  bool takes_value = false;
  Value value;
};

struct CommandInfo {
  std::string path;  // "" for the program, "/fn", "/fn/ls"
  std::vector<std::pair<std::string, std::string>> subcommands;  // name, description
  std::vector<OptionInfo> options;
  Value positional{ValueKind::kNone, {}};
};

// The first line of a description, without a final period, for zsh's listing.
std::string summary(const std::string& description) {
  std::string line = description.substr(0, description.find('\n'));
  if (line.ends_with('.')) line.pop_back();
  return line;
}

// CLI11 spells a value's type and checks as "TEXT:{table,json,yaml}", "INT:POSITIVE",
// "TEXT:FILE", or a name set with type_name() ("URL", "PATH").
Value valueOf(const CLI::Option& option) {
  const std::string type = option.get_type_name();
  const auto open = type.find('{');
  const auto close = type.find('}', open);
  if (open != std::string::npos && close != std::string::npos) {
    Value value{ValueKind::kWords, {}};
    std::string_view set = std::string_view(type).substr(open + 1, close - open - 1);
    while (!set.empty()) {
      const auto comma = set.find(',');
      value.words.emplace_back(set.substr(0, comma));
      set = comma == std::string_view::npos ? std::string_view() : set.substr(comma + 1);
    }
    return value;
  }
  // Plain text may well be a path (CLI11's default type name); a type named otherwise (INT, URL,
  // JSON) is not, unless the name says so.
  const bool path = type.starts_with("TEXT") || type.find("FILE") != std::string::npos ||
                    type.find("PATH") != std::string::npos || type.find("DIR") != std::string::npos;
  return {path ? ValueKind::kFiles : ValueKind::kNone, {}};
}

void collect(const CLI::App& app, const std::string& path, std::vector<CommandInfo>& out) {
  CommandInfo info;
  info.path = path;
  bool have_positional = false;
  for (const CLI::Option* option :
       app.get_options([](const CLI::Option* o) { return !o->get_group().empty(); })) {
    if (option->get_positional() && !option->nonpositional()) {
      if (have_positional) continue;
      have_positional = true;
      info.positional =
          option->get_single_name() == "NAME" ? Value{ValueKind::kFunctions, {}} : valueOf(*option);
      continue;
    }
    OptionInfo o;
    for (const auto& s : option->get_snames()) o.spellings.push_back("-" + s);
    for (const auto& l : option->get_lnames()) o.spellings.push_back("--" + l);
    o.description = summary(option->get_description());
    o.takes_value = option->get_items_expected_max() > 0;  // flags expect none
    if (o.takes_value) o.value = valueOf(*option);
    info.options.push_back(std::move(o));
  }
  const auto subcommands =
      app.get_subcommands([](const CLI::App* a) { return !a->get_group().empty(); });
  for (const CLI::App* sub : subcommands) {
    info.subcommands.emplace_back(sub->get_name(), summary(sub->get_description()));
  }
  out.push_back(std::move(info));
  for (const CLI::App* sub : subcommands) collect(*sub, path + "/" + sub->get_name(), out);
}

std::string join(const std::vector<std::string>& words, std::string_view sep) {
  return fmt::format("{}", fmt::join(words, sep));
}

std::string pathPatterns(const std::vector<CommandInfo>& commands, std::string_view sep) {
  std::vector<std::string> paths;
  for (const auto& c : commands) {
    if (!c.path.empty()) paths.push_back(c.path);
  }
  return join(paths, sep);
}

// A shell function name for the program ("sie" -> "sie", "sie-dev" -> "sie_dev").
std::string identifier(std::string_view program) {
  std::string out;
  for (const char c : program) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

std::string zshQuote(std::string_view text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// ---- bash

std::string bashWords(const std::vector<std::string>& words, std::string_view indent) {
  return fmt::format("{}mapfile -t COMPREPLY < <(compgen -W \"{}\" -- \"$cur\")", indent,
                     join(words, " "));
}

// The positional's kind for the script ("pos=functions"); words go in `open`...`close` (a bash
// string, a zsh array).
std::string positionalLines(const Value& positional, std::string_view open,
                            std::string_view close) {
  switch (positional.kind) {
    case ValueKind::kFunctions:
      return "      pos=functions\n";
    case ValueKind::kFiles:
      return "      pos=files\n";
    case ValueKind::kWords:
      return fmt::format("      pos=words\n      posw={}{}{}\n", open, join(positional.words, " "),
                         close);
    case ValueKind::kNone:
      break;
  }
  return "";
}

std::string bashArm(const CommandInfo& c) {
  std::vector<std::string> subs;
  for (const auto& [name, _] : c.subcommands) subs.push_back(name);
  std::vector<std::string> opts;
  for (const auto& o : c.options) opts.insert(opts.end(), o.spellings.begin(), o.spellings.end());
  std::string arm = fmt::format("    \"{}\")\n      subs=\"{}\"\n      opts=\"{}\"\n", c.path,
                                join(subs, " "), join(opts, " "));
  std::string values;
  for (const auto& o : c.options) {
    if (!o.takes_value) continue;
    values += fmt::format("        {})", join(o.spellings, " | "));
    switch (o.value.kind) {
      case ValueKind::kWords:
        values +=
            "\n" + bashWords(o.value.words, "          ") + "\n          return\n          ;;\n";
        break;
      case ValueKind::kFiles:
        values += " return ;;  # file names, by -o default\n";
        break;
      default:
        values += " compopt +o default; return ;;\n";
        break;
    }
  }
  if (!values.empty()) arm += "      case \"$prev\" in\n" + values + "      esac\n";
  return arm + positionalLines(c.positional, "\"", "\"") + "      ;;\n";
}

std::string bashScript(const std::vector<CommandInfo>& commands, std::string_view program) {
  std::string arms;
  for (const auto& c : commands) arms += bashArm(c);
  return fmt::format(
      R"sh(# bash completion for {0}, generated by `{0} completion bash`. Load it with
#   source <({0} completion bash)
# or save it as ~/.local/share/bash-completion/completions/{0}.

# The node's function names; --node is passed on when the line has it.
_{1}_function_names() {{
  local i
  local -a node=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ ${{COMP_WORDS[i]}} == --node ]]; then node=(--node "${{COMP_WORDS[i + 1]}}"); fi
  done
  "${{COMP_WORDS[0]}}" fn ls --names "${{node[@]}}" 2>/dev/null
}}

_{1}() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD - 1]}}
  local cmdpath="" word i subs="" opts="" pos="" posw=""
  # The command path so far ("/fn/describe"); options and the first other word end it.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${{COMP_WORDS[i]}}
    [[ $word == -* ]] && continue
    case "$cmdpath/$word" in
      {2}) cmdpath="$cmdpath/$word" ;;
      *) break ;;
    esac
  done
  case "$cmdpath" in
{3}  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
  elif [[ -n $subs ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
  elif [[ $pos == functions ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_{1}_function_names)" -- "$cur")
  elif [[ $pos == words ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$posw" -- "$cur")
  elif [[ $pos != files ]]; then
    compopt +o default
  fi
}}

complete -o default -F _{1} {0}
)sh",
      program, identifier(program), pathPatterns(commands, " | "), arms);
}

// ---- zsh

std::string zshDescribed(const std::vector<std::pair<std::string, std::string>>& items) {
  std::vector<std::string> quoted;
  for (const auto& [name, description] : items) {
    std::string escaped;
    for (const char c : name) escaped += c == ':' ? std::string("\\:") : std::string(1, c);
    quoted.push_back(zshQuote(description.empty() ? escaped : escaped + ":" + description));
  }
  return join(quoted, " ");
}

std::string zshArm(const CommandInfo& c) {
  std::vector<std::pair<std::string, std::string>> opts;
  for (const auto& o : c.options) {
    for (const auto& spelling : o.spellings) opts.emplace_back(spelling, o.description);
  }
  std::string arm =
      fmt::format("    ({})\n      subs=({})\n      opts=({})\n", c.path.empty() ? "\"\"" : c.path,
                  zshDescribed(c.subcommands), zshDescribed(opts));
  std::string values;
  for (const auto& o : c.options) {
    if (!o.takes_value) continue;
    values += fmt::format("        ({}) ", join(o.spellings, "|"));
    switch (o.value.kind) {
      case ValueKind::kWords:
        values += "compadd -- " + join(o.value.words, " ");
        break;
      case ValueKind::kFiles:
        values += "_files";
        break;
      default:
        values += "_message " + zshQuote(o.spellings.back() + " value");
        break;
    }
    values += "; return ;;\n";
  }
  if (!values.empty()) arm += "      case \"$prev\" in\n" + values + "      esac\n";
  return arm + positionalLines(c.positional, "(", ")") + "      ;;\n";
}

std::string zshScript(const std::vector<CommandInfo>& commands, std::string_view program) {
  std::string arms;
  for (const auto& c : commands) arms += zshArm(c);
  return fmt::format(R"sh(#compdef {0}
# zsh completion for {0}, generated by `{0} completion zsh`. Load it with
#   source <({0} completion zsh)
# (after compinit), or save it as _{0} in a folder of $fpath.

# The node's function names; --node is passed on when the line has it.
_{1}_function_names() {{
  local i
  local -a node
  for ((i = 2; i < CURRENT; i++)); do
    [[ ${{words[i]}} == --node ]] && node=(--node "${{words[i + 1]}}")
  done
  ${{~words[1]}} fn ls --names "${{node[@]}}" 2>/dev/null
}}

_{1}() {{
  local cur=${{words[CURRENT]}} prev=${{words[CURRENT - 1]}} cmdpath="" word i pos=""
  local -a subs opts posw names
  # The command path so far ("/fn/describe"); options and the first other word end it. Not
  # "path": zsh ties that to $PATH.
  for ((i = 2; i < CURRENT; i++)); do
    word=${{words[i]}}
    [[ $word == -* ]] && continue
    case "$cmdpath/$word" in
      ({2}) cmdpath="$cmdpath/$word" ;;
      (*) break ;;
    esac
  done
  case "$cmdpath" in
{3}  esac
  if [[ $cur == -* ]]; then
    _describe -t options option opts
  elif (( $#subs )); then
    _describe -t commands command subs
  elif [[ $pos == functions ]]; then
    names=(${{(f)"$(_{1}_function_names)"}})
    compadd -a names
  elif [[ $pos == words ]]; then
    compadd -a posw
  elif [[ $pos == files ]]; then
    _files
  fi
}}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _{1} "$@"
else
  compdef _{1} {0}
fi
)sh",
                     program, identifier(program), pathPatterns(commands, "|"), arms);
}

}  // namespace

std::string completionScript(const CLI::App& root, std::string_view shell,
                             std::string_view program) {
  std::vector<CommandInfo> commands;
  collect(root, "", commands);
  if (shell == "bash") return bashScript(commands, program);
  if (shell == "zsh") return zshScript(commands, program);
  return "";
}

void addCompletionCommand(CLI::App& app, int& exit_code) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("completion", "Print a shell completion script");
  cmd->add_option("SHELL", *shell, "bash or zsh; load with: source <(sie completion bash)")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  // The whole tree is built by the time a subcommand runs, so the script covers all of it.
  cmd->callback([cmd, shell, &exit_code] {
    std::cout << completionScript(*cmd->get_parent(), *shell);
    exit_code = 0;
  });
}

}  // namespace sie::cli
