#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sie/config.h"
#include "state/embedded_store.h"
#include "state_test_util.h"

namespace sie::state {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::manualOptions;
using testing::openOrDie;
using testing::TempDir;

std::optional<std::string> getOrDie(KvStore& kv, std::string_view key) {
  auto value = kv.get(key);
  EXPECT_TRUE(value) << value.error().str();
  return value ? *value : std::nullopt;
}

TEST(StateKvTest, PutGetOverwriteErase) {
  TempDir dir;
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  auto& kv = store->kv();
  EXPECT_EQ(getOrDie(kv, "threshold/pump1"), std::nullopt);
  ASSERT_TRUE(kv.put("threshold/pump1", "4.5"));
  EXPECT_EQ(getOrDie(kv, "threshold/pump1"), "4.5");
  ASSERT_TRUE(kv.put("threshold/pump1", "5.0"));
  EXPECT_EQ(getOrDie(kv, "threshold/pump1"), "5.0");
  ASSERT_TRUE(kv.erase("threshold/pump1"));
  EXPECT_EQ(getOrDie(kv, "threshold/pump1"), std::nullopt);
  EXPECT_TRUE(kv.erase("never/there"));
}

TEST(StateKvTest, ValuesAreBytesAndSurviveReopen) {
  TempDir dir;
  const std::string binary("a\0b\xff", 4);
  {
    auto store = openOrDie(manualOptions(dir.path()));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->kv().put("bin", binary));
    ASSERT_TRUE(store->kv().put("empty", ""));
    ASSERT_TRUE(store->kv().put("gone", "x"));
    ASSERT_TRUE(store->kv().erase("gone"));
  }
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(getOrDie(store->kv(), "bin"), binary);
  EXPECT_EQ(getOrDie(store->kv(), "empty"), "");
  EXPECT_EQ(getOrDie(store->kv(), "gone"), std::nullopt);
}

TEST(StateKvTest, TtlExpiresByTheInjectedClock) {
  TempDir dir;
  FakeClock clock;
  auto options = manualOptions(dir.path());
  options.clock = &clock;
  {
    auto store = openOrDie(options);
    ASSERT_NE(store, nullptr);
    auto& kv = store->kv();
    ASSERT_TRUE(kv.put("lease", "node-a", 100ms));
    ASSERT_TRUE(kv.put("forever", "x"));
    ASSERT_TRUE(kv.put("long", "y", 10s));
    clock.advance(99ms);
    EXPECT_EQ(getOrDie(kv, "lease"), "node-a");
    clock.advance(1ms);
    EXPECT_EQ(getOrDie(kv, "lease"), std::nullopt);
    EXPECT_EQ(getOrDie(kv, "forever"), "x");
    // A new put gives the key a new life.
    ASSERT_TRUE(kv.put("lease", "node-b", 50ms));
    EXPECT_EQ(getOrDie(kv, "lease"), "node-b");
    ASSERT_TRUE(store->close());
  }
  clock.advance(10s);
  auto store = openOrDie(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(getOrDie(store->kv(), "lease"), std::nullopt);
  EXPECT_EQ(getOrDie(store->kv(), "long"), std::nullopt);
  EXPECT_EQ(getOrDie(store->kv(), "forever"), "x");
  EXPECT_FALSE(store->kv().put("bad", "ttl", -1ms));
  // Beyond 100 years the expiry would overflow int64 nanoseconds.
  EXPECT_FALSE(store->kv().put("bad", "ttl", std::chrono::milliseconds::max()));
  EXPECT_TRUE(store->kv().put("century", "x", kMaxDuration));
}

TEST(StateKvTest, CompareAndSet) {
  TempDir dir;
  FakeClock clock;
  auto options = manualOptions(dir.path());
  options.clock = &clock;
  auto store = openOrDie(options);
  ASSERT_NE(store, nullptr);
  auto& kv = store->kv();

  // Absent key: only an "expect absent" CAS succeeds, and only once.
  EXPECT_EQ(kv.compareAndSet("leader", std::string_view("x"), "a").value(), false);
  EXPECT_EQ(kv.compareAndSet("leader", std::nullopt, "a").value(), true);
  EXPECT_EQ(kv.compareAndSet("leader", std::nullopt, "b").value(), false);
  EXPECT_EQ(getOrDie(kv, "leader"), "a");

  EXPECT_EQ(kv.compareAndSet("leader", std::string_view("b"), "c").value(), false);
  EXPECT_EQ(kv.compareAndSet("leader", std::string_view("a"), "c", 100ms).value(), true);
  EXPECT_EQ(getOrDie(kv, "leader"), "c");

  // An expired key is absent for CAS too.
  clock.advance(100ms);
  EXPECT_EQ(kv.compareAndSet("leader", std::string_view("c"), "d").value(), false);
  EXPECT_EQ(kv.compareAndSet("leader", std::nullopt, "d").value(), true);
  EXPECT_EQ(getOrDie(kv, "leader"), "d");
}

TEST(StateKvTest, ConcurrentCompareAndSetLosesNoIncrement) {
  TempDir dir;
  auto options = manualOptions(dir.path());
  options.batch_max = 64;
  auto store = openOrDie(options);
  ASSERT_NE(store, nullptr);
  auto& kv = store->kv();
  ASSERT_TRUE(kv.put("counter", "0"));
  constexpr int kThreads = 4;
  constexpr int kIncrements = 500;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&kv] {
      for (int i = 0; i < kIncrements; ++i) {
        for (;;) {
          const std::string current = kv.get("counter").value().value();
          const std::string next = std::to_string(std::stoi(current) + 1);
          if (kv.compareAndSet("counter", std::string_view(current), next).value()) break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(getOrDie(kv, "counter"), std::to_string(kThreads * kIncrements));
  ASSERT_TRUE(store->close());
  auto reopened = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(getOrDie(reopened->kv(), "counter"), std::to_string(kThreads * kIncrements));
}

}  // namespace
}  // namespace sie::state
