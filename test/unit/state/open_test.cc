#include <fstream>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "sie/metrics.h"
#include "state/embedded_store.h"
#include "state_test_util.h"

namespace sie::state {
namespace {

using testing::manualOptions;
using testing::openOrDie;
using testing::scalar;
using testing::TempDir;

void writeRandomBytes(const std::string& path, std::size_t size) {
  std::mt19937 random(42);
  std::ofstream out(path, std::ios::binary);
  for (std::size_t i = 0; i < size; ++i) out.put(static_cast<char>(random() & 0xff));
}

TEST(StateOpenTest, CreatesTheDataDirectory) {
  TempDir dir;
  const std::string nested = dir.path() + "/a/b/state";
  auto store = openOrDie(manualOptions(nested));
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(nested + "/sie.db"));
}

TEST(StateOpenTest, CorruptDatabaseFileIsAClearError) {
  TempDir dir;
  writeRandomBytes(dir.db(), std::size_t{64} * 1024);
  auto store = openEmbedded(manualOptions(dir.path()));
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, Errc::kCorrupt);
  EXPECT_NE(store.error().str().find("not a database"), std::string::npos) << store.error().str();
  EXPECT_NE(store.error().str().find(dir.db()), std::string::npos) << store.error().str();

  auto report = verifyAuditChain(dir.path());
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, Errc::kCorrupt);
}

TEST(StateOpenTest, TruncatedDatabaseFileIsAClearError) {
  TempDir dir;
  {
    auto store = openOrDie(manualOptions(dir.path()));
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 5000; ++i) ASSERT_TRUE(store->timeSeries().append(scalar("t/s", i, i)));
  }
  // Keep the header, damage the pages behind it.
  std::filesystem::resize_file(dir.db(), std::uintmax_t{4096} * 3);
  {
    std::fstream file(dir.db(), std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(4096);
    for (int i = 0; i < 4096; ++i) file.put('\x5a');
  }
  auto store = openEmbedded(manualOptions(dir.path()));
  if (store) {
    // Opening may succeed when the damage is not on a page read at open; reads then fail cleanly.
    auto last = (*store)->timeSeries().lastN(Symbol::intern("t/s"), 10000);
    EXPECT_FALSE(last && last->size() == 5000U);
  } else {
    EXPECT_TRUE(store.error().code == Errc::kCorrupt || store.error().code == Errc::kIo)
        << store.error().str();
  }
}

TEST(StateOpenTest, MissingDatabaseIsNotFound) {
  TempDir dir;
  auto report = verifyAuditChain(dir.path() + "/nothing-here");
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, Errc::kNotFound);
  EXPECT_FALSE(readAuditTail(dir.path(), 5));
}

TEST(StateOpenTest, RejectsBadOptions) {
  EmbeddedOptions options;
  EXPECT_EQ(openEmbedded(options).error().code, Errc::kInvalidArgument);  // no data_dir
  TempDir dir;
  options = manualOptions(dir.path());
  options.batch_max = 0;
  EXPECT_EQ(openEmbedded(options).error().code, Errc::kInvalidArgument);
  options = manualOptions(dir.path());
  options.batch_interval = std::chrono::milliseconds(0);
  EXPECT_EQ(openEmbedded(options).error().code, Errc::kInvalidArgument);
}

TEST(StateOpenTest, OneStorePerDirectory) {
  TempDir dir;
  auto first = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(first, nullptr);
  auto second = openEmbedded(manualOptions(dir.path()));
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("already open"), std::string::npos);
  // Readers need no lock.
  EXPECT_TRUE(verifyAuditChain(dir.path()));
  ASSERT_TRUE(first->close());
  EXPECT_TRUE(openEmbedded(manualOptions(dir.path())));
}

TEST(StateOpenTest, EverythingFailsAfterCloseAndCloseIsIdempotent) {
  TempDir dir;
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->close());
  EXPECT_TRUE(store->close());
  EXPECT_FALSE(store->sync());
  EXPECT_FALSE(store->kv().put("k", "v"));
  EXPECT_FALSE(store->kv().get("k"));
  EXPECT_FALSE(store->deadLetters().count());
  EXPECT_FALSE(store->audit().append("decision", "s", "{}"));
  EXPECT_FALSE(store->audit().tail(1));
  EXPECT_FALSE(store->audit().verify());
}

TEST(StateOpenTest, WritesAndCommitsAreMeasured) {
  TempDir dir;
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  const auto writes_before = metrics().counterTotal("sie_state_writes_total");
  Histogram& commits = metrics().histogram("sie_state_commit_seconds", "");
  const auto commits_before = commits.count();
  ASSERT_TRUE(store->timeSeries().append(scalar("m/s", 1, 1)));
  ASSERT_TRUE(store->kv().put("m", "1"));
  ASSERT_TRUE(store->audit().append("decision", "m", "{}"));
  ASSERT_TRUE(store->sync());
  EXPECT_EQ(metrics().counterTotal("sie_state_writes_total"), writes_before + 3);
  EXPECT_GT(commits.count(), commits_before);
  const std::string text = metrics().render();
  EXPECT_NE(text.find("sie_state_pending_writes"), std::string::npos);
  EXPECT_NE(text.find("sie_state_writes_total{kind=\"reading\"}"), std::string::npos);
}

}  // namespace
}  // namespace sie::state
