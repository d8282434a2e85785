// `sie audit verify|tail` driven through CLI11 in-process, with stdout and stderr captured.
#include <filesystem>
#include <fstream>
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

// A sealed chain: the node key in the data directory, checkpoints exported to `export_file`.
void writeSealedChain(const TempDir& dir, const std::string& export_file, int records) {
  EmbeddedOptions options = manualOptions(dir.path());
  AuditSealOptions seal;
  seal.checkpoint_records = 4;
  seal.export_file = export_file;
  options.audit_seal = seal;
  auto store = openOrDie(options);
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= records; ++i) {
    ASSERT_TRUE(store->audit().append("decision", "pump-health@1", R"({"decision":"deny"})"));
  }
  ASSERT_TRUE(store->close());
}

TEST(StateAuditCommandTest, KeyPrintsThePublicKeyForTrust) {
  TempDir dir;
  TempDir elsewhere;
  const std::string exported = elsewhere.path() + "/checkpoints.jsonl";
  writeSealedChain(dir, exported, 10);
  const CliRun key = runSie({"audit", "key", "--data-dir", dir.path()});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  EXPECT_EQ(key.out.rfind("-----BEGIN PUBLIC KEY-----", 0), 0U) << key.out;
  EXPECT_NE(key.err.find("audit key "), std::string::npos) << key.err;
  const std::string trust = elsewhere.path() + "/node.pub";
  std::ofstream(trust) << key.out;

  const CliRun run = runSie(
      {"audit", "verify", "--data-dir", dir.path(), "--trust", trust, "--checkpoints", exported});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "audit chain intact: 13 records, 3 checkpoints signed by a trusted key\n");
}

TEST(StateAuditCommandTest, VerifyReportsADeletedDatabaseFromTheExport) {
  TempDir dir;
  TempDir elsewhere;
  const std::string exported = elsewhere.path() + "/checkpoints.jsonl";
  writeSealedChain(dir, exported, 10);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(dir.db() + suffix);
  const CliRun run = runSie({"audit", "verify", "--data-dir", dir.path(), "--trust",
                             dir.path() + "/audit.key.pub", "--checkpoints", exported});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("BROKEN: the database is missing, but checkpoints up to record 13 were "
                         "exported"),
            std::string::npos)
      << run.err;
}

TEST(StateAuditCommandTest, VerifyWithTrustRefusesAnUnsealedChain) {
  TempDir dir;
  TempDir elsewhere;
  writeChain(dir, 5);  // a plain chain: no checkpoints
  writeSealedChain(elsewhere, "", 1);
  const CliRun run = runSie({"audit", "verify", "--data-dir", dir.path(), "--trust",
                             elsewhere.path() + "/audit.key.pub"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("no checkpoint signed by a trusted key"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace sie::state
