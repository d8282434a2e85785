// Rate limits per caller: a burst, then a steady rate, each caller on its own.
#include "security/rate_limiter.h"

#include <gtest/gtest.h>

namespace sie::security {
namespace {

class ManualClock final : public Clock {
 public:
  [[nodiscard]] std::int64_t nowNs() const override { return now_ns; }
  [[nodiscard]] std::int64_t monotonicNs() const override { return now_ns; }
  std::int64_t now_ns = 1'000'000'000;
};

TEST(RateLimiterTest, ABurstThenTheRateAndEachCallerOnItsOwn) {
  ManualClock clock;
  RateLimiter limiter(10, 3, clock);
  double wait = 0;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow("scada", wait)) << i;
  EXPECT_FALSE(limiter.allow("scada", wait));
  EXPECT_NEAR(wait, 0.1, 1e-9);
  EXPECT_TRUE(limiter.allow("ci-bot", wait));  // another caller has its own bucket

  clock.now_ns += 50'000'000;  // half a token
  EXPECT_FALSE(limiter.allow("scada", wait));
  EXPECT_NEAR(wait, 0.05, 1e-9);
  clock.now_ns += 50'000'000;
  EXPECT_TRUE(limiter.allow("scada", wait));

  clock.now_ns += 60'000'000'000;  // a long pause refills to the burst, not beyond
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow("scada", wait));
  EXPECT_FALSE(limiter.allow("scada", wait));
}

TEST(RateLimiterTest, ZeroMeansNoLimitAndManyCallersStayBounded) {
  ManualClock clock;
  RateLimiter unlimited(0, 1, clock);
  double wait = 0;
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(unlimited.allow("x", wait));

  RateLimiter limiter(1, 1, clock);
  for (int i = 0; i < 50'000; ++i) limiter.allow("caller-" + std::to_string(i), wait);
  clock.now_ns += 2'000'000'000;
  EXPECT_TRUE(limiter.allow("caller-1", wait));  // dropped or refilled: starts full either way
  EXPECT_FALSE(limiter.allow("caller-1", wait));
}

}  // namespace
}  // namespace sie::security
