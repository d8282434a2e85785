#include <sqlite3.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "state/audit_chain.h"
#include "state/embedded_store.h"
#include "state_test_util.h"

namespace sie::state {
namespace {

using testing::manualOptions;
using testing::openOrDie;
using testing::TempDir;

constexpr int kRecords = 20;

std::string body(int i) { return R"({"decision":"normal","score":)" + std::to_string(i) + "}"; }

// Writes a closed chain of kRecords records into `dir`.
void writeChain(const TempDir& dir) {
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= kRecords; ++i) {
    auto seq = store->audit().append("decision", "pump-health@1", body(i));
    ASSERT_TRUE(seq) << seq.error().str();
    ASSERT_EQ(*seq, i);
  }
  ASSERT_TRUE(store->close());
}

// Changes the database behind the store's back, as an attacker with file access would.
void tamper(const TempDir& dir, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.db().c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

AuditVerifyReport verifyDir(const TempDir& dir) {
  auto report = verifyAuditChain(dir.path());
  EXPECT_TRUE(report) << report.error().str();
  return report ? *report : AuditVerifyReport{};
}

TEST(StateAuditTest, AppendsFormAVerifiableChain) {
  TempDir dir;
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= 50; ++i) {
    ASSERT_EQ(store->audit().append("action", "valve7", body(i)).value(), i);
  }

  // Before and after the commit, tail sees the same records.
  auto tail = store->audit().tail(5);
  ASSERT_TRUE(tail) << tail.error().str();
  ASSERT_EQ(tail->size(), 5U);
  EXPECT_EQ(tail->front().seq, 46);
  EXPECT_EQ(tail->back().seq, 50);
  EXPECT_EQ(tail->back().body, body(50));

  auto report = store->audit().verify();
  ASSERT_TRUE(report) << report.error().str();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->records, 50);

  auto all = store->audit().tail(100).value();
  ASSERT_EQ(all.size(), 50U);
  EXPECT_EQ(all[0].prev_hash, kGenesisHash);
  for (std::size_t i = 1; i < all.size(); ++i) {
    EXPECT_EQ(all[i].prev_hash, all[i - 1].hash);
    EXPECT_EQ(all[i].hash, auditHash(all[i].prev_hash, all[i].seq, all[i].ts_ns, all[i].kind,
                                     all[i].subject, all[i].body));
  }
}

TEST(StateAuditTest, TailMergesCommittedAndPendingRecords) {
  TempDir dir;
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(store->audit().append("decision", "s", body(i)));
  ASSERT_TRUE(store->sync());
  for (int i = 11; i <= 15; ++i) ASSERT_TRUE(store->audit().append("decision", "s", body(i)));
  auto tail = store->audit().tail(8).value();
  ASSERT_EQ(tail.size(), 8U);
  for (std::size_t i = 0; i < tail.size(); ++i) {
    EXPECT_EQ(tail[i].seq, static_cast<std::int64_t>(8 + i));
  }
}

TEST(StateAuditTest, HashEncodingIsUnambiguous) {
  const std::string prev(kGenesisHash);
  EXPECT_NE(auditHash(prev, 1, 2, "ab", "c", ""), auditHash(prev, 1, 2, "a", "bc", ""));
  EXPECT_NE(auditHash(prev, 1, 2, "a", "", "b"), auditHash(prev, 1, 2, "a", "b", ""));
  EXPECT_NE(auditHash(prev, 1, 2, "k", "s", "b"), auditHash(prev, 2, 1, "k", "s", "b"));
  EXPECT_EQ(auditHash(prev, 1, 2, "k", "s", "b").size(), 64U);
}

TEST(StateAuditTest, IntactChainVerifiesFromTheDirectory) {
  TempDir dir;
  writeChain(dir);
  const auto report = verifyDir(dir);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.records, kRecords);
  EXPECT_EQ(report.first_bad_seq, 0);
}

TEST(StateAuditTest, DetectsAnAlteredBody) {
  TempDir dir;
  writeChain(dir);
  tamper(dir, R"(UPDATE audit SET body = '{"decision":"anomaly"}' WHERE seq = 7)");
  const auto report = verifyDir(dir);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 7);
  EXPECT_EQ(report.records, 6);
  EXPECT_EQ(report.problem, "record 7: hash does not match its contents (altered?)");
}

TEST(StateAuditTest, DetectsARemovedMiddleRecord) {
  TempDir dir;
  writeChain(dir);
  tamper(dir, "DELETE FROM audit WHERE seq = 9");
  const auto report = verifyDir(dir);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 9);
  EXPECT_NE(report.problem.find("record 9: missing (removed?)"), std::string::npos)
      << report.problem;
}

TEST(StateAuditTest, DetectsSwappedRecords) {
  TempDir dir;
  writeChain(dir);
  // Every column but seq trades places between records 5 and 12.
  tamper(dir, R"(
    CREATE TEMP TABLE saved AS SELECT * FROM audit WHERE seq IN (5, 12);
    UPDATE audit SET (ts_ns, kind, subject, body, prev_hash, hash) =
      (SELECT ts_ns, kind, subject, body, prev_hash, hash FROM saved
       WHERE saved.seq = CASE audit.seq WHEN 5 THEN 12 ELSE 5 END)
    WHERE seq IN (5, 12);)");
  const auto report = verifyDir(dir);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 5);
  EXPECT_NE(report.problem.find("record 5: prev_hash"), std::string::npos) << report.problem;
}

TEST(StateAuditTest, DetectsSwappedContentsWithHashesLeftInPlace) {
  TempDir dir;
  writeChain(dir);
  tamper(dir, R"(
    CREATE TEMP TABLE saved AS SELECT * FROM audit WHERE seq IN (3, 4);
    UPDATE audit SET body = (SELECT body FROM saved
       WHERE saved.seq = CASE audit.seq WHEN 3 THEN 4 ELSE 3 END)
    WHERE seq IN (3, 4);)");
  const auto report = verifyDir(dir);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3);
}

TEST(StateAuditTest, DetectsARemovedLastRecord) {
  TempDir dir;
  writeChain(dir);
  tamper(dir, "DELETE FROM audit WHERE seq = " + std::to_string(kRecords));
  const auto report = verifyDir(dir);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, kRecords);
  EXPECT_EQ(report.records, kRecords - 1);
  EXPECT_NE(report.problem.find("missing (removed?)"), std::string::npos) << report.problem;

  // Appending after the damage must not hide it.
  {
    auto store = openOrDie(manualOptions(dir.path()));
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(store->audit().append("lifecycle", "node", "{}").value(), kRecords + 1);
    auto live = store->audit().verify();
    ASSERT_TRUE(live);
    EXPECT_FALSE(live->ok);
    EXPECT_EQ(live->first_bad_seq, kRecords);
  }
  EXPECT_EQ(verifyDir(dir).first_bad_seq, kRecords);
}

TEST(StateAuditTest, DetectsADeletedHeadCheckpoint) {
  TempDir dir;
  writeChain(dir);
  tamper(dir, "DELETE FROM meta");
  auto report = verifyDir(dir);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, kRecords);
}

TEST(StateAuditTest, ChainContinuesAfterReopen) {
  TempDir dir;
  writeChain(dir);
  {
    auto store = openOrDie(manualOptions(dir.path()));
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= 5; ++i) {
      ASSERT_EQ(store->audit().append("decision", "s", body(i)).value(), kRecords + i);
    }
    auto report = store->audit().verify();
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok) << report->problem;
    EXPECT_EQ(report->records, kRecords + 5);
  }
  const auto report = verifyDir(dir);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.records, kRecords + 5);
}

TEST(StateAuditTest, EmptyChainIsIntact) {
  TempDir dir;
  { ASSERT_NE(openOrDie(manualOptions(dir.path())), nullptr); }
  const auto report = verifyDir(dir);
  EXPECT_TRUE(report.ok);
  EXPECT_EQ(report.records, 0);
}

}  // namespace
}  // namespace sie::state
