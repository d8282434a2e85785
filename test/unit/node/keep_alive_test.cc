// The hybrid-histogram keep-alive policy: falls back to the fixed keep-alive until it has learned,
// then unloads after an invocation and reloads just before the expected next arrival.
#include "runtime/keep_alive.h"

#include <gtest/gtest.h>

namespace sie::node {
namespace {

using namespace std::chrono_literals;

TEST(KeepAliveTest, FixedKeepAliveUntilEnoughIdleTimesAreSeen) {
  KeepAlivePolicy policy(60s);
  for (std::size_t i = 0; i + 1 < KeepAlivePolicy::kMinSamples; ++i) policy.record(300s);
  EXPECT_FALSE(policy.windows().learned);
  EXPECT_TRUE(policy.wantLoaded(59s));
  EXPECT_FALSE(policy.wantLoaded(60s));
}

TEST(KeepAliveTest, APeriodicFunctionIsUnloadedAndReloadedBeforeItsNextArrival) {
  KeepAlivePolicy policy(60s);                                                     // 1 s bins
  for (int i = 0; i < 20; ++i) policy.record(300s + std::chrono::seconds(i % 3));  // every ~5 min
  const auto w = policy.windows();
  ASSERT_TRUE(w.learned);
  // Pre-warm: the 5th percentile (300 s) less 10 %; keep-alive to the 99th (303 s edge) plus 10 %.
  EXPECT_NEAR(static_cast<double>(w.prewarm.count()), 270e9, 1e6);
  EXPECT_NEAR(static_cast<double>((w.prewarm + w.keep_alive).count()), 333.3e9, 1e6);
  EXPECT_FALSE(policy.wantLoaded(10s));  // right after an invocation: unloaded
  EXPECT_TRUE(policy.wantLoaded(280s));  // loaded ahead of the arrival at ~300 s
  EXPECT_TRUE(policy.wantLoaded(302s));
  EXPECT_FALSE(policy.wantLoaded(400s));  // the arrival did not come: unloaded again
}

TEST(KeepAliveTest, ShortIdleTimesKeepTheInstanceLoaded) {
  KeepAlivePolicy policy(60s);
  for (int i = 0; i < 50; ++i) policy.record(std::chrono::milliseconds(200 + 100 * (i % 5)));
  const auto w = policy.windows();
  ASSERT_TRUE(w.learned);
  EXPECT_EQ(w.prewarm.count(), 0);
  EXPECT_TRUE(policy.wantLoaded(0s));
  EXPECT_TRUE(policy.wantLoaded(900ms));
  EXPECT_FALSE(policy.wantLoaded(3s));  // well past every idle time seen (1 s bin + 10 %)
}

TEST(KeepAliveTest, IdleTimesBeyondTheRangeKeepTheFixedKeepAlive) {
  KeepAlivePolicy policy(60s);  // range: 24 idle timeouts = 24 min
  for (int i = 0; i < 20; ++i) policy.record(2h);
  EXPECT_FALSE(policy.windows().learned);
  EXPECT_TRUE(policy.wantLoaded(30s));
  EXPECT_FALSE(policy.wantLoaded(61s));
}

}  // namespace
}  // namespace sie::node
