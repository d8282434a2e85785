#include "exec/process/uid_pool.h"

#include <unistd.h>

#include <deque>
#include <filesystem>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::process {
namespace {

class UidPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sie-uids-XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(UidPoolTest, RunningWorkersNeverShareAUid) {
  UidPool pool(70000, 8, dir_ + "/locks");
  std::deque<UidPool::Lease> leases;
  std::set<uid_t> seen;
  for (int i = 0; i < 8; ++i) {
    auto lease = pool.acquire();
    ASSERT_TRUE(lease) << lease.error().str();
    EXPECT_GE(lease->uid(), 70000U);
    EXPECT_LT(lease->uid(), 70008U);
    EXPECT_TRUE(seen.insert(lease->uid()).second) << lease->uid() << " handed out twice";
    leases.push_back(std::move(*lease));
  }
  auto none = pool.acquire();  // all eight are held
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::kOverload);
  const uid_t freed = leases.front().uid();
  leases.pop_front();
  auto again = pool.acquire();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->uid(), freed);
  EXPECT_EQ(std::filesystem::status(dir_ + "/locks").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);
}

// Two nodes on one machine share the lock folder: what one holds, the other skips.
TEST_F(UidPoolTest, NodesOnOneMachineDoNotShareUidsEither) {
  UidPool a(70000, 4, dir_ + "/locks");
  UidPool b(70000, 4, dir_ + "/locks");
  std::deque<UidPool::Lease> leases;
  std::set<uid_t> seen;
  for (int i = 0; i < 4; ++i) {
    auto lease = (i % 2 == 0 ? a : b).acquire();
    ASSERT_TRUE(lease) << lease.error().str();
    EXPECT_TRUE(seen.insert(lease->uid()).second) << lease->uid() << " held by both";
    leases.push_back(std::move(*lease));
  }
  EXPECT_FALSE(a.acquire());
  EXPECT_FALSE(b.acquire());
  leases.clear();  // the worker ended: its uid is free for either node
  EXPECT_TRUE(b.acquire());
}

TEST_F(UidPoolTest, UidsAreTakenInTurnNotReusedAtOnce) {
  UidPool pool(70000, 100, dir_ + "/locks");
  uid_t first = 0;
  {
    auto lease = pool.acquire();
    ASSERT_TRUE(lease);
    first = lease->uid();
  }
  auto next = pool.acquire();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->uid(), first == 70099 ? 70000U : first + 1);
}

}  // namespace
}  // namespace sie::process
