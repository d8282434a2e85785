// `sie audit verify|tail` driven through CLI11 in-process, with stdout and stderr captured.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "state/embedded_store.h"
#include "state_test_util.h"

namespace sie::state {
namespace {

using testing::manualOptions;
using testing::openOrDie;
using testing::TempDir;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

CliRun runSie(const std::vector<std::string>& args) {
  CLI::App app("sie");
  app.require_subcommand(1);
  CliRun run;
  cli::addAuditCommand(app, run.exit_code);
  std::vector<const char*> argv = {"sie"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out;
  std::ostringstream err;
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    run.exit_code = app.exit(e);
  }
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  run.out = out.str();
  run.err = err.str();
  return run;
}

void writeChain(const TempDir& dir, int records) {
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= records; ++i) {
    ASSERT_TRUE(store->audit().append("decision", "pump-health@1",
                                      R"({"score":)" + std::to_string(i) + "}"));
  }
  ASSERT_TRUE(store->audit().append("action", "valve", "not json"));
}

TEST(StateAuditCommandTest, VerifyIntactChain) {
  TempDir dir;
  writeChain(dir, 11);
  const CliRun run = runSie({"audit", "verify", "--data-dir", dir.path()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "audit chain intact: 12 records\n");
}

TEST(StateAuditCommandTest, VerifyBrokenChainExitsOne) {
  TempDir dir;
  writeChain(dir, 20);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.db().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE audit SET subject = 'forged' WHERE seq = 17", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const CliRun run = runSie({"audit", "verify", "--data-dir", dir.path()});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err.rfind("audit chain BROKEN at record 17: hash does not match its contents", 0),
            0U)
      << run.err;
}

TEST(StateAuditCommandTest, VerifyWithoutDatabaseExitsTwo) {
  TempDir dir;
  const CliRun run = runSie({"audit", "verify", "--data-dir", dir.path() + "/missing"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("no state database"), std::string::npos) << run.err;
}

TEST(StateAuditCommandTest, DataDirIsRequired) {
  const CliRun run = runSie({"audit", "verify"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("--data-dir"), std::string::npos) << run.err;
}

TEST(StateAuditCommandTest, TailPrintsJsonLines) {
  TempDir dir;
  writeChain(dir, 9);
  const CliRun run = runSie({"audit", "tail", "--data-dir", dir.path(), "-n", "3"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::istringstream lines(run.out);
  std::vector<nlohmann::json> records;
  for (std::string line; std::getline(lines, line);) records.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(records.size(), 3U);
  EXPECT_EQ(records[0]["seq"], 8);
  EXPECT_EQ(records[1]["body"]["score"], 9);
  EXPECT_EQ(records[2]["body"], "not json");
  EXPECT_EQ(records[2]["hash"].get<std::string>().size(), 64U);
}

}  // namespace
}  // namespace sie::state
