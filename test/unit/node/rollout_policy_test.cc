// Rollout policies: strategy names, the bounds every policy must keep, and the sticky canary
// bucket of a sensor.
#include "runtime/rollout_policy.h"

#include <cmath>
#include <limits>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::node {
namespace {

using ::testing::HasSubstr;
using Strategy = RolloutPolicy::Strategy;

TEST(RolloutPolicyTest, StrategyNamesRoundTrip) {
  for (const Strategy s : {Strategy::kCanary, Strategy::kShadow, Strategy::kBlueGreen}) {
    auto parsed = parseStrategy(strategyName(s));
    ASSERT_TRUE(parsed) << strategyName(s);
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_EQ(strategyName(Strategy::kCanary), "canary");
  EXPECT_EQ(strategyName(Strategy::kShadow), "shadow");
  EXPECT_EQ(strategyName(Strategy::kBlueGreen), "blue-green");
}

TEST(RolloutPolicyTest, AnUnknownStrategyIsRefusedNamingTheChoices) {
  for (const std::string name : {"", "Canary", "bluegreen", "blue_green", "canary "}) {
    auto parsed = parseStrategy(name);
    ASSERT_FALSE(parsed) << "'" << name << "'";
    EXPECT_EQ(parsed.error().code, Errc::kInvalidArgument);
    EXPECT_EQ(parsed.error().where, "strategy");
    EXPECT_THAT(parsed.error().message, HasSubstr("'" + name + "'"));
    EXPECT_THAT(parsed.error().message, HasSubstr("canary, shadow, blue-green"));
  }
}

TEST(RolloutPolicyTest, TheDefaultsAndTheBoundsThemselvesAreValid) {
  EXPECT_TRUE(validate(RolloutPolicy{}));
  RolloutPolicy edges;
  edges.weight = 0;
  edges.max_error_rate = 0;
  edges.max_p99_ms = 0;
  edges.min_invocations = 1;
  EXPECT_TRUE(validate(edges));
  edges.weight = 100;
  edges.max_error_rate = 1;
  edges.max_p99_ms = 1e9;
  EXPECT_TRUE(validate(edges));
}

// The field a bad policy names, or "" when it is valid.
std::string badField(const RolloutPolicy& policy) {
  auto checked = validate(policy);
  if (checked) return "";
  EXPECT_EQ(checked.error().code, Errc::kInvalidArgument);
  return checked.error().where;
}

TEST(RolloutPolicyTest, EachBoundIsCheckedAndNamesItsField) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto with = [](auto change) {
    RolloutPolicy p;
    change(p);
    return p;
  };
  EXPECT_EQ(badField(with([](RolloutPolicy& p) { p.weight = -1; })), "weight");
  EXPECT_EQ(badField(with([](RolloutPolicy& p) { p.weight = 101; })), "weight");
  EXPECT_EQ(badField(with([](RolloutPolicy& p) { p.max_error_rate = -0.01; })), "maxErrorRate");
  EXPECT_EQ(badField(with([](RolloutPolicy& p) { p.max_error_rate = 1.01; })), "maxErrorRate");
  EXPECT_EQ(badField(with([&](RolloutPolicy& p) { p.max_error_rate = nan; })), "maxErrorRate");
  EXPECT_EQ(badField(with([](RolloutPolicy& p) { p.max_p99_ms = -1; })), "maxLatencyMs");
  EXPECT_EQ(badField(with([&](RolloutPolicy& p) { p.max_p99_ms = nan; })), "maxLatencyMs");
  EXPECT_EQ(badField(with([](RolloutPolicy& p) { p.min_invocations = 0; })), "minInvocations");

  RolloutPolicy weight;
  weight.weight = 250;
  auto checked = validate(weight);
  ASSERT_FALSE(checked);
  EXPECT_THAT(checked.error().message, HasSubstr("got 250"));
}

TEST(RolloutPolicyTest, TheStickyBucketIsFnv1aOfTheSensorModuloOneHundred) {
  // Pinned: every node, and every restart, must put a sensor in the same bucket.
  EXPECT_EQ(stickyBucket(""), 3);
  EXPECT_EQ(stickyBucket("a"), 66);
  EXPECT_EQ(stickyBucket("plant/pump1/vibration"), 79);
  EXPECT_EQ(stickyBucket("rotating/pump7/bearing_temp"), 29);
  EXPECT_EQ(stickyBucket("plant/pump1/vibration"),
            stickyBucket(std::string("plant/pump1/vibration")));
}

TEST(RolloutPolicyTest, BucketsSpreadSensorsSoAWeightIsAboutItsShare) {
  std::set<int> seen;
  int below_ten = 0;
  for (int i = 0; i < 10000; ++i) {
    const int bucket = stickyBucket("plant/s" + std::to_string(i) + "/temp");
    ASSERT_GE(bucket, 0);
    ASSERT_LT(bucket, 100);
    seen.insert(bucket);
    if (bucket < 10) ++below_ten;
  }
  EXPECT_EQ(seen.size(), 100u);
  // A 10 % canary takes about a tenth of the sensors.
  EXPECT_GT(below_ten, 800);
  EXPECT_LT(below_ten, 1200);
}

}  // namespace
}  // namespace sie::node
