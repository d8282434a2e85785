// The policy file in force: loaded at start (errors stop the node), reloaded when it changes,
// the last good one kept when a change does not load; loads and refusals audited.
#include "security/policy_store.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "memory_audit.h"
#include "sie/metrics.h"

namespace sie::security {
namespace {

using ::testing::HasSubstr;

class ManualClock final : public Clock {
 public:
  [[nodiscard]] std::int64_t nowNs() const override { return now_ns; }
  [[nodiscard]] std::int64_t monotonicNs() const override { return now_ns; }
  std::int64_t now_ns = 1'000'000'000;
};

constexpr std::chrono::seconds kInterval{1};

std::string policyWith(std::string_view actions) {
  return fmt::format(
      "apiVersion: sie/v1\nkind: Policy\nrules:\n  - {{subjects: [role:viewer], actions: [{}]}}\n",
      actions);
}

class PolicyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sie-policy-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "policy.yaml").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& text) { std::ofstream(path_, std::ios::trunc) << text; }
  bool viewerMay(PolicyStore& store, Action action) {
    return store.current()->decide({"token:v", Role::kViewer}, action, {}).allowed;
  }

  std::filesystem::path dir_;
  std::string path_;
  ManualClock clock_;
  MemoryAudit audit_;
};

TEST_F(PolicyStoreTest, AFileThatDoesNotLoadAtStartIsAnError) {
  auto missing = PolicyStore::open(path_, audit_, clock_, kInterval);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().str(), HasSubstr("no such file"));
  write(policyWith("raed"));
  auto broken = PolicyStore::open(path_, audit_, clock_, kInterval);
  ASSERT_FALSE(broken);
  EXPECT_THAT(broken.error().str(), HasSubstr(path_ + ":4: unknown action 'raed'"));
}

TEST_F(PolicyStoreTest, AChangedFileIsReloadedAndAudited) {
  write(policyWith("read"));
  auto store = PolicyStore::open(path_, audit_, clock_, kInterval);
  ASSERT_TRUE(store) << store.error().str();
  auto loads = audit_.bodies("security", "policy");
  ASSERT_EQ(loads.size(), 1U);
  EXPECT_EQ(loads[0]["event"], "loaded");
  EXPECT_EQ(loads[0]["file"], path_);
  EXPECT_EQ(loads[0]["rules"], 1);
  EXPECT_EQ(loads[0]["sha256"].get<std::string>().size(), 64U);
  EXPECT_TRUE(viewerMay(**store, Action::kRead));

  write(policyWith("read, invoke"));
  EXPECT_FALSE(viewerMay(**store, Action::kInvoke));  // looked at once per interval
  clock_.now_ns += 1'000'000'000;
  EXPECT_TRUE(viewerMay(**store, Action::kInvoke));
  loads = audit_.bodies("security", "policy");
  ASSERT_EQ(loads.size(), 2U);
  EXPECT_EQ(loads[1]["event"], "reloaded");
  EXPECT_NE(loads[1]["sha256"], loads[0]["sha256"]);
}

TEST_F(PolicyStoreTest, AChangeThatDoesNotLoadKeepsTheLastGoodPolicy) {
  write(policyWith("read, invoke"));
  auto store = PolicyStore::open(path_, audit_, clock_, kInterval);
  ASSERT_TRUE(store) << store.error().str();
  const std::uint64_t failed_before = metrics().counterTotal("sie_policy_reloads_total");

  write(policyWith("read, invoke, deploi"));
  for (int i = 0; i < 3; ++i) {
    clock_.now_ns += 1'000'000'000;
    EXPECT_TRUE(viewerMay(**store, Action::kInvoke));
  }
  auto events = audit_.bodies("security", "policy");
  ASSERT_EQ(events.size(), 2U);  // reported once, not at every look
  EXPECT_EQ(events[1]["event"], "reload_failed");
  EXPECT_THAT(events[1]["reason"].get<std::string>(),
              HasSubstr(path_ + ":4: unknown action 'deploi'"));
  EXPECT_EQ(metrics().counterTotal("sie_policy_reloads_total"), failed_before + 1);

  std::filesystem::remove(path_);
  clock_.now_ns += 1'000'000'000;
  EXPECT_TRUE(viewerMay(**store, Action::kInvoke));
  events = audit_.bodies("security", "policy");
  ASSERT_EQ(events.size(), 3U);
  EXPECT_EQ(events[2]["reason"], "the file is gone");

  write(policyWith("read"));
  clock_.now_ns += 1'000'000'000;
  EXPECT_FALSE(viewerMay(**store, Action::kInvoke));
  EXPECT_EQ(audit_.bodies("security", "policy").back()["event"], "reloaded");
}

}  // namespace
}  // namespace sie::security
