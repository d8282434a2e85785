// Scaler: one thread ticking on a fixed period, the first tick at once, stopped by its destructor.
#include "runtime/scaler.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "wait_until.h"

namespace sie::node {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using sie::testing::waitUntil;

TEST(ScalerTest, TicksAgainAndAgain) {
  std::atomic<int> ticks{0};
  Scaler scaler([&] { ++ticks; }, 1ms);
  EXPECT_TRUE(waitUntil([&] { return ticks.load() >= 5; })) << ticks.load();
}

TEST(ScalerTest, TicksOnceAtOnceAndStopsWithoutWaitingOutThePeriod) {
  std::atomic<int> ticks{0};
  auto scaler = std::make_unique<Scaler>([&] { ++ticks; }, std::chrono::hours(1));
  ASSERT_TRUE(waitUntil([&] { return ticks.load() == 1; }));
  const auto begin = Steady::now();
  scaler.reset();
  EXPECT_LT(Steady::now() - begin, 5s) << "the destructor waited for the period to end";
  EXPECT_EQ(ticks.load(), 1);
}

TEST(ScalerTest, TicksAreAPeriodApart) {
  constexpr auto kPeriod = 30ms;
  std::mutex mu;
  std::vector<Steady::time_point> at;
  {
    Scaler scaler(
        [&] {
          std::lock_guard lock(mu);
          at.push_back(Steady::now());
        },
        kPeriod);
    ASSERT_TRUE(waitUntil([&] {
      std::lock_guard lock(mu);
      return at.size() >= 4;
    }));
  }
  std::lock_guard lock(mu);
  for (std::size_t i = 1; i < at.size(); ++i) {
    // The wait starts after the tick returns, so ticks are at least a period apart.
    EXPECT_GE(at[i] - at[i - 1], kPeriod) << "tick " << i;
  }
}

TEST(ScalerTest, TheDestructorWaitsForARunningTick) {
  std::atomic<bool> in_tick{false};
  std::atomic<bool> finished{false};
  auto scaler = std::make_unique<Scaler>(
      [&] {
        if (finished) return;
        in_tick = true;
        std::this_thread::sleep_for(100ms);  // a tick that takes a while
        finished = true;
        in_tick = false;
      },
      1ms);
  ASSERT_TRUE(waitUntil([&] { return in_tick.load(); }));
  scaler.reset();
  EXPECT_TRUE(finished.load()) << "the scaler was destroyed while its tick still ran";
  EXPECT_FALSE(in_tick.load());
}

TEST(ScalerTest, NoTickAfterTheDestructorReturns) {
  std::atomic<int> ticks{0};
  auto scaler = std::make_unique<Scaler>([&] { ++ticks; }, 1ms);
  ASSERT_TRUE(waitUntil([&] { return ticks.load() >= 2; }));
  scaler.reset();
  const int after = ticks.load();
  std::this_thread::sleep_for(20ms);  // time for a stray tick to show, had the thread survived
  EXPECT_EQ(ticks.load(), after);
}

}  // namespace
}  // namespace sie::node
