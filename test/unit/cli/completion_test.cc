#include "cli/completion.h"

#include <string>

#include <gtest/gtest.h>

namespace sie::cli {
namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A small tree shaped like sie's: a group with leaves, a NAME positional, a fixed set, numbers.
struct Tree {
  CLI::App root{"sie", "sie"};
  std::string name, output = "table", node, file;
  int tail = 0;
  bool flag = false;

  Tree() {
    CLI::App* fn = root.add_subcommand("fn", "Functions");
    CLI::App* ls = fn->add_subcommand("ls", "List them.");
    ls->add_flag("--names", flag, "Names only");
    ls->add_option("-o,--output", output, "Format")->check(CLI::IsMember({"table", "json"}));
    CLI::App* describe = fn->add_subcommand("describe", "Show one");
    describe->add_option("NAME", name, "Function")->required();
    describe->add_option("--node", node, "Node")->type_name("URL");
    CLI::App* logs = root.add_subcommand("logs", "Log lines, it's long\nsecond line");
    logs->add_option("NAME", name, "Function");
    logs->add_option("--tail", tail, "How many");
    CLI::App* inspect = root.add_subcommand("inspect", "A file");
    inspect->add_option("FILE", file, "Model")->check(CLI::ExistingFile);
  }
};

TEST(CompletionScriptTest, UnknownShellIsEmpty) {
  Tree tree;
  EXPECT_EQ(completionScript(tree.root, "fish"), "");
}

TEST(CompletionScriptTest, BashCoversTheTree) {
  Tree tree;
  const std::string s = completionScript(tree.root, "bash");
  EXPECT_TRUE(has(s, "complete -o default -F _sie sie\n"));
  EXPECT_TRUE(has(s, "/fn | /fn/ls | /fn/describe | /logs | /inspect) cmdpath=")) << s;
  EXPECT_TRUE(has(s, "    \"\")\n      subs=\"fn logs inspect\"\n"));
  EXPECT_TRUE(has(s, "    \"/fn\")\n      subs=\"ls describe\"\n"));
  EXPECT_TRUE(has(s, "opts=\"-h --help --names -o --output\""));
  EXPECT_TRUE(has(s, "compgen -W \"table json\""));
  EXPECT_TRUE(has(s, "fn ls --names"));
  // NAME positionals complete function names; --node and numbers nothing; FILE file names.
  const auto arm = [&](const std::string& path) {
    const auto start = s.find("    \"" + path + "\")\n");
    EXPECT_NE(start, std::string::npos) << path;
    return s.substr(start, s.find("      ;;\n", start) - start);
  };
  EXPECT_TRUE(has(arm("/fn/describe"), "pos=functions"));
  EXPECT_TRUE(has(arm("/fn/describe"), "--node) compopt +o default; return ;;"));
  EXPECT_TRUE(has(arm("/logs"), "--tail) compopt +o default; return ;;"));
  EXPECT_TRUE(has(arm("/inspect"), "pos=files"));
  EXPECT_FALSE(has(arm("/fn/ls"), "pos="));
  EXPECT_FALSE(has(arm("/fn/ls"), "--names)"));  // a flag takes no value
}

TEST(CompletionScriptTest, ZshCoversTheTreeWithDescriptions) {
  Tree tree;
  const std::string s = completionScript(tree.root, "zsh");
  EXPECT_EQ(s.rfind("#compdef sie\n", 0), 0u);
  EXPECT_TRUE(has(s, "compdef _sie sie\n"));
  EXPECT_TRUE(has(s, "subs=('ls:List them' 'describe:Show one')"));
  // First line only, quotes escaped for single-quoted words.
  EXPECT_TRUE(has(s, "'logs:Log lines, it'\\''s long'"));
  EXPECT_TRUE(has(s, "(-o|--output) compadd -- table json; return ;;"));
  EXPECT_TRUE(has(s, "pos=functions"));
  EXPECT_FALSE(has(s, "local path"));  // zsh ties $path to $PATH
}

TEST(CompletionScriptTest, ProgramNameIsUsed) {
  Tree tree;
  const std::string s = completionScript(tree.root, "bash", "sie-dev");
  EXPECT_TRUE(has(s, "complete -o default -F _sie_dev sie-dev\n"));
  EXPECT_TRUE(has(s, "_sie_dev_function_names()"));
}

}  // namespace
}  // namespace sie::cli
