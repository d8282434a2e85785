// Signed checkpoints, their export and retention: every way of rewriting the database behind the
// node's back is caught by verify with the node's public key and the exported checkpoints.
#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/file_text.h"
#include "core/signing.h"
#include "sie/metrics.h"
#include "state/audit_chain.h"
#include "state/audit_checkpoint.h"
#include "state/embedded_store.h"
#include "state/sqlite_db.h"
#include "state_test_util.h"

namespace sie::state {
namespace {

using testing::FakeClock;
using testing::manualOptions;
using testing::openOrDie;
using testing::TempDir;

std::string body(int i) { return R"({"decision":"anomaly","score":)" + std::to_string(i) + "}"; }

// A node's data directory with a sealed chain, and a second folder standing in for the volume
// the checkpoints are exported to.
class SealedChain : public ::testing::Test {
 protected:
  EmbeddedOptions options(std::size_t every = 5) {
    EmbeddedOptions o = manualOptions(dir_.path());
    o.clock = &clock_;
    AuditSealOptions seal;
    seal.checkpoint_records = every;
    seal.checkpoint_interval = std::chrono::nanoseconds(0);
    seal.export_file = exportFile();
    o.audit_seal = seal;
    return o;
  }
  std::string exportFile() const { return export_dir_.path() + "/checkpoints.jsonl"; }
  std::string publicKey() const { return defaultAuditKeyPath(dir_.path()) + ".pub"; }

  void write(int records, EmbeddedOptions o) {
    auto store = openOrDie(std::move(o));
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= records; ++i) {
      clock_.advance(std::chrono::milliseconds(1));
      ASSERT_TRUE(store->audit().append("decision", "pump-health@1", body(i)));
    }
    ASSERT_TRUE(store->close());
  }
  void write(int records) { write(records, options()); }

  TrustStore trust(const std::string& pub) const {
    auto pem = readFileText(pub);
    EXPECT_TRUE(pem) << pem.error().str();
    auto key = readPublicKey(pem.value_or(""), pub);
    EXPECT_TRUE(key) << key.error().str();
    return key ? TrustStore({*key}) : TrustStore();
  }

  // Verifies with the node's public key, and with the export unless told not to.
  AuditChainReport verify(bool with_export = true) {
    const TrustStore keys = trust(publicKey());
    std::vector<AuditCheckpoint> exported;
    if (with_export) {
      auto read = readCheckpointExport(exportFile());
      EXPECT_TRUE(read) << read.error().str();
      exported = read.value_or(std::vector<AuditCheckpoint>{});
    }
    auto report =
        verifyAuditChain(dir_.path(), AuditVerifyOptions{&keys, with_export ? &exported : nullptr});
    EXPECT_TRUE(report) << report.error().str();
    return report.value_or(AuditChainReport{});
  }
  AuditChainReport verifyPlain() {
    auto report = verifyAuditChain(dir_.path());
    EXPECT_TRUE(report) << report.error().str();
    return report.value_or(AuditChainReport{});
  }

  void sql(const std::string& text) {
    auto db = Db::open(dir_.db(), SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db) << db.error().str();
    ASSERT_TRUE(db->exec(text, "tamper")) << text;
  }

  // Rewrites the whole chain as an attacker with write access but without the node key would:
  // `edit` changes the records, then every hash and the head are recomputed.
  void rewrite(const std::function<void(std::vector<AuditRecord>&)>& edit) {
    std::vector<AuditRecord> records = readAuditTail(dir_.path(), 1'000'000).value();
    edit(records);
    std::string prev(kGenesisHash);
    std::int64_t seq = 0;
    for (AuditRecord& r : records) {
      r.seq = ++seq;
      r.prev_hash = prev;
      r.hash = auditHash(r.prev_hash, r.seq, r.ts_ns, r.kind, r.subject, r.body);
      prev = r.hash;
    }
    auto db = Db::open(dir_.db(), SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("DELETE FROM audit", "tamper"));
    Stmt insert = db->prepare(
                        "INSERT INTO audit(seq, ts_ns, kind, subject, body, prev_hash, hash) "
                        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        "tamper")
                      .value();
    for (const AuditRecord& r : records) {
      ASSERT_TRUE(insert.bind(1, r.seq)
                      .bind(2, r.ts_ns)
                      .bindText(3, r.kind)
                      .bindText(4, r.subject)
                      .bindText(5, r.body)
                      .bindText(6, r.prev_hash)
                      .bindText(7, r.hash)
                      .run());
    }
    ASSERT_TRUE(db->exec(fmt::format("UPDATE meta SET value = '{}' WHERE key = 'audit_head_seq'; "
                                     "UPDATE meta SET value = '{}' WHERE key = 'audit_head_hash'",
                                     seq, prev),
                         "tamper"));
  }

  TempDir dir_;
  TempDir export_dir_;
  FakeClock clock_;
};

std::int64_t countKind(const std::vector<AuditRecord>& records, std::string_view kind) {
  return std::count_if(records.begin(), records.end(),
                       [&](const AuditRecord& r) { return r.kind == kind; });
}

TEST(AuditCheckpointTest, SignatureCoversEveryField) {
  TempDir dir;
  const std::string key = dir.path() + "/audit.key";
  ASSERT_TRUE(ensureAuditKey(key));
  EXPECT_EQ(std::filesystem::status(key).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  ASSERT_TRUE(ensureAuditKey(key));  // an existing key is kept
  AuditCheckpoint cp{.seq = 7,
                     .head = std::string(64, 'a'),
                     .time_ns = 123,
                     .first_seq = 1,
                     .from_hash = std::string(kGenesisHash)};
  ASSERT_TRUE(signCheckpoint(cp, key));
  auto pem = readFileText(key + ".pub").value();
  const TrustStore trust({readPublicKey(pem, "pub").value()});
  EXPECT_TRUE(verifyCheckpoint(cp, trust));
  const auto parsed = parseCheckpoint(checkpointJson(cp));
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(verifyCheckpoint(*parsed, trust));

  for (auto change : std::vector<std::function<void(AuditCheckpoint&)>>{
           [](AuditCheckpoint& c) { c.seq = 8; },
           [](AuditCheckpoint& c) { c.head = std::string(64, 'b'); },
           [](AuditCheckpoint& c) { c.time_ns = 124; }, [](AuditCheckpoint& c) { c.first_seq = 2; },
           [](AuditCheckpoint& c) { c.from_hash = std::string(64, 'c'); }}) {
    AuditCheckpoint forged = cp;
    change(forged);
    EXPECT_FALSE(verifyCheckpoint(forged, trust));
  }
  // Another node's key does not verify it.
  TempDir other;
  ASSERT_TRUE(ensureAuditKey(other.path() + "/audit.key"));
  const TrustStore stranger(
      {readPublicKey(readFileText(other.path() + "/audit.key.pub").value(), "pub").value()});
  EXPECT_FALSE(verifyCheckpoint(cp, stranger));
}

TEST_F(SealedChain, CheckpointsAreSignedIntoTheChainAndExported) {
  write(23);
  const std::vector<AuditRecord> records = readAuditTail(dir_.path(), 1000).value();
  // A checkpoint after every 5 records, and one on close for the last 3.
  EXPECT_EQ(countKind(records, kCheckpointKind), 5);
  EXPECT_EQ(records.back().kind, kCheckpointKind);
  const AuditCheckpoint last = parseCheckpoint(records.back().body).value();
  EXPECT_EQ(last.seq, records.back().seq - 1);
  EXPECT_EQ(last.head, records.back().prev_hash);

  const std::vector<AuditCheckpoint> exported = readCheckpointExport(exportFile()).value();
  ASSERT_EQ(exported.size(), 5U);
  EXPECT_EQ(exported.back().record, records.back().seq);

  const AuditChainReport report = verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.records, 28);
  EXPECT_EQ(report.checkpoints, 5);
  EXPECT_EQ(report.sealed_seq, 28);
}

TEST_F(SealedChain, DetectsAModifiedRecord) {
  write(23);
  sql("UPDATE audit SET body = '{\"decision\":\"normal\"}' WHERE seq = 9");
  const AuditChainReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 9);
}

TEST_F(SealedChain, DetectsADeletedRecord) {
  write(23);
  sql("DELETE FROM audit WHERE seq = 4");
  const AuditChainReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4);
}

TEST_F(SealedChain, DetectsReorderedRecords) {
  write(23);
  sql("UPDATE audit SET seq = -1 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 4; "
      "UPDATE audit SET seq = 4 WHERE seq = -1");
  const AuditChainReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3);
}

TEST_F(SealedChain, DetectsATruncatedTailWithARewrittenHead) {
  write(23);
  // Cut everything after record 12 (a checkpoint) and make the head agree.
  sql("DELETE FROM audit WHERE seq > 12; "
      "UPDATE meta SET value = (SELECT hash FROM audit WHERE seq = 12) "
      "WHERE key = 'audit_head_hash'; "
      "UPDATE meta SET value = '12' WHERE key = 'audit_head_seq'");
  // The chain alone is a consistent prefix: the export is what still knows about the rest.
  EXPECT_TRUE(verifyPlain().ok);
  EXPECT_TRUE(verify(/*with_export=*/false).ok);
  const AuditChainReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("newer than the chain's last record 12"), std::string::npos)
      << report.problem;
}

TEST_F(SealedChain, DetectsAChainRewrittenWithNewHashes) {
  write(23);
  // Keeping the checkpoints as they are: they no longer seal the rewritten records.
  rewrite([](std::vector<AuditRecord>& r) { r[1].body = R"({"decision":"normal"})"; });
  AuditChainReport report = verify(/*with_export=*/false);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("not the chain's (rewritten?)"), std::string::npos)
      << report.problem;
}

TEST_F(SealedChain, DetectsRewrittenCheckpointsWhoseSignaturesNoLongerVerify) {
  write(23);
  rewrite([](std::vector<AuditRecord>& records) {
    records[1].body = R"({"decision":"normal"})";
    // Re-point every checkpoint at the rewritten hashes; the signatures cannot follow.
    std::string prev(kGenesisHash);
    for (std::size_t i = 0; i < records.size(); ++i) {
      AuditRecord& r = records[i];
      if (r.kind == kCheckpointKind) {
        AuditCheckpoint cp = parseCheckpoint(r.body).value();
        cp.head = prev;
        r.body = checkpointJson(cp);
      }
      prev = auditHash(prev, static_cast<std::int64_t>(i + 1), r.ts_ns, r.kind, r.subject, r.body);
    }
  });
  const AuditChainReport report = verify(/*with_export=*/false);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("checkpoint signature refused"), std::string::npos)
      << report.problem;
}

TEST_F(SealedChain, DetectsAChainRewrittenWithoutItsCheckpoints) {
  write(23);
  rewrite([](std::vector<AuditRecord>& records) {
    std::erase_if(records, [](const AuditRecord& r) { return r.kind == kCheckpointKind; });
  });
  EXPECT_TRUE(verifyPlain().ok);  // a plain hash chain cannot tell
  AuditChainReport report = verify(/*with_export=*/false);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("no checkpoint signed by a trusted key"), std::string::npos)
      << report.problem;
  report = verify();
  EXPECT_FALSE(report.ok);
}

TEST_F(SealedChain, DetectsCheckpointsSignedWithAnotherKey) {
  write(23);
  TempDir attacker;
  const std::string key = attacker.path() + "/audit.key";
  ASSERT_TRUE(ensureAuditKey(key));
  rewrite([&](std::vector<AuditRecord>& records) {
    records[1].body = R"({"decision":"normal"})";
    std::string prev(kGenesisHash);
    for (std::size_t i = 0; i < records.size(); ++i) {
      AuditRecord& r = records[i];
      if (r.kind == kCheckpointKind) {
        AuditCheckpoint cp = parseCheckpoint(r.body).value();
        cp.head = prev;
        ASSERT_TRUE(signCheckpoint(cp, key));
        r.body = checkpointJson(cp);
      }
      prev = auditHash(prev, static_cast<std::int64_t>(i + 1), r.ts_ns, r.kind, r.subject, r.body);
    }
  });
  AuditChainReport report = verify(/*with_export=*/false);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("checkpoint signature refused"), std::string::npos)
      << report.problem;
}

TEST_F(SealedChain, DetectsADeletedDatabase) {
  write(23);
  std::filesystem::remove(dir_.db());
  std::filesystem::remove(dir_.db() + "-wal");
  std::filesystem::remove(dir_.db() + "-shm");
  EXPECT_EQ(verifyAuditChain(dir_.path()).error().code, Errc::kNotFound);
  const AuditChainReport report = verifyMissingChain(readCheckpointExport(exportFile()).value());
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("database is missing"), std::string::npos) << report.problem;
}

TEST_F(SealedChain, DetectsAReplacedDatabase) {
  write(23);
  // A fresh database with a valid chain, signed with the node key, replaces the old one.
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(dir_.db() + suffix);
  EmbeddedOptions fresh = options();
  fresh.audit_seal->export_file.clear();
  write(40, fresh);
  EXPECT_TRUE(verify(/*with_export=*/false).ok);
  const AuditChainReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("differs from the exported checkpoint"), std::string::npos)
      << report.problem;
}

TEST_F(SealedChain, PruningKeepsTheChainVerifiable) {
  EmbeddedOptions o = options(5);
  o.audit_seal->max_records = 20;
  write(100, o);
  const std::vector<AuditRecord> records = readAuditTail(dir_.path(), 1000).value();
  EXPECT_LE(records.size(), 20U);
  EXPECT_GT(records.front().seq, 100);
  AuditChainReport report = verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.first_seq, records.front().seq);

  // The chain goes on after a restart and stays verifiable.
  write(30, o);
  report = verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_GT(report.first_seq, 130);
}

TEST_F(SealedChain, PrunedChainStillDetectsTampering) {
  EmbeddedOptions o = options(5);
  o.audit_seal->max_records = 20;
  write(100, o);
  const std::int64_t first = readAuditTail(dir_.path(), 1000).value().front().seq;

  // Removing the oldest kept record looks like more pruning, but no checkpoint says so.
  sql(fmt::format("DELETE FROM audit WHERE seq = {}", first));
  AuditChainReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, first + 1);
  EXPECT_NE(report.problem.find("missing (removed?)"), std::string::npos) << report.problem;
}

TEST_F(SealedChain, PrunedChainDetectsAModifiedRecord) {
  EmbeddedOptions o = options(5);
  o.audit_seal->max_records = 20;
  write(100, o);
  const std::int64_t first = readAuditTail(dir_.path(), 1000).value().front().seq;
  sql(fmt::format("UPDATE audit SET subject = 'forged' WHERE seq = {}", first + 2));
  const AuditChainReport report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, first + 2);
}

TEST_F(SealedChain, PrunesByAge) {
  EmbeddedOptions o = options(5);
  o.audit_seal->max_age = std::chrono::hours(1);
  auto store = openOrDie(o);
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(store->audit().append("decision", "p", body(i)));
  clock_.advance(std::chrono::hours(2));
  for (int i = 11; i <= 20; ++i) ASSERT_TRUE(store->audit().append("decision", "p", body(i)));
  ASSERT_TRUE(store->close());
  const std::vector<AuditRecord> records = readAuditTail(dir_.path(), 1000).value();
  EXPECT_GT(records.front().seq, 12);  // 10 records and 2 checkpoints are older than an hour
  const AuditChainReport report = verify();
  EXPECT_TRUE(report.ok) << report.problem;
}

TEST_F(SealedChain, SealsByTime) {
  EmbeddedOptions o = options(0);
  o.audit_seal->checkpoint_interval = std::chrono::seconds(60);
  auto store = openOrDie(o);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->audit().append("decision", "p", body(1)));
  clock_.advance(std::chrono::seconds(30));
  ASSERT_TRUE(store->audit().append("decision", "p", body(2)));
  EXPECT_EQ(countKind(store->audit().tail(10).value(), kCheckpointKind), 0);
  clock_.advance(std::chrono::seconds(31));
  ASSERT_TRUE(store->audit().append("decision", "p", body(3)));
  const std::vector<AuditRecord> records = store->audit().tail(10).value();
  ASSERT_EQ(records.size(), 4U);
  EXPECT_EQ(records.back().kind, kCheckpointKind);
}

TEST_F(SealedChain, AnExportThatFailsIsRetriedAfterLaterCommits) {
  EmbeddedOptions o = options(5);
  const std::string folder = export_dir_.path() + "/not-yet";
  o.audit_seal->export_file = folder + "/checkpoints.jsonl";
  const std::uint64_t errors = metrics().counterTotal("sie_audit_export_errors_total");
  auto store = openOrDie(o);
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(store->audit().append("decision", "p", body(i)));
  ASSERT_TRUE(store->sync());
  EXPECT_GT(metrics().counterTotal("sie_audit_export_errors_total"), errors);

  // The volume comes back: the missed checkpoint goes out with the next one, in order.
  std::filesystem::create_directories(folder);
  for (int i = 6; i <= 10; ++i) ASSERT_TRUE(store->audit().append("decision", "p", body(i)));
  ASSERT_TRUE(store->close());
  const std::vector<AuditCheckpoint> exported =
      readCheckpointExport(o.audit_seal->export_file).value();
  ASSERT_EQ(exported.size(), 2U);
  EXPECT_EQ(exported[0].record, 6);
  EXPECT_EQ(exported[1].record, 12);
}

}  // namespace
}  // namespace sie::state
