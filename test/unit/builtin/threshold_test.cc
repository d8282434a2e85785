#include <limits>

#include <gtest/gtest.h>

#include "call_builder.h"

namespace sie::builtin {
namespace {

using testing::Call;
using testing::kvBinding;
using testing::makeSpec;

TEST(BuiltinThresholdTest, ScoresDistanceOutsideTheBandRelativeToItsWidth) {
  auto s = makeSpec("threshold", {{"min", 0}, {"max", 100}});
  auto fn = testing::instantiate(s);
  Call call(s);

  auto d = testing::decide(*fn, call.value(50));
  EXPECT_EQ(d.label, "normal");
  EXPECT_FALSE(d.anomaly);
  EXPECT_EQ(d.score, 0.0);
  EXPECT_FALSE(testing::decide(*fn, call.value(100)).anomaly);  // the limit itself is inside

  d = testing::decide(*fn, call.value(120));
  EXPECT_EQ(d.label, "high");
  EXPECT_TRUE(d.anomaly);
  EXPECT_DOUBLE_EQ(d.score, 0.2);
  EXPECT_EQ(d.detail, "120 > max 100");

  d = testing::decide(*fn, call.value(-10));
  EXPECT_EQ(d.label, "low");
  EXPECT_TRUE(d.anomaly);
  EXPECT_DOUBLE_EQ(d.score, 0.1);
}

TEST(BuiltinThresholdTest, OneLimitScalesByItsSize) {
  auto s = makeSpec("threshold", {{"max", 80}});
  auto fn = testing::instantiate(s);
  Call call(s);
  EXPECT_FALSE(testing::decide(*fn, call.value(-1e9)).anomaly);
  auto d = testing::decide(*fn, call.value(100));
  EXPECT_TRUE(d.anomaly);
  EXPECT_DOUBLE_EQ(d.score, 0.25);

  auto zero = makeSpec("threshold", {{"min", 0}});
  auto fn0 = testing::instantiate(zero);
  Call call0(zero);
  d = testing::decide(*fn0, call0.value(-3));
  EXPECT_EQ(d.label, "low");
  EXPECT_DOUBLE_EQ(d.score, 3.0);
}

TEST(BuiltinThresholdTest, KvBindingsOverrideTheParamsPerAsset) {
  auto s =
      makeSpec("threshold", {{"min", 0}, {"max", 100}},
               {kvBinding("max", "limits/{sensor}/max"), kvBinding("min", "limits/{sensor}/min")});
  auto fn = testing::instantiate(s);
  Call call(s);
  call.values["max"] = 80;
  auto d = testing::decide(*fn, call.value(90));
  EXPECT_EQ(d.label, "high");
  EXPECT_DOUBLE_EQ(d.score, 0.125);

  call.values["min"] = 50;
  EXPECT_EQ(testing::decide(*fn, call.value(45)).label, "low");
  call.values["min"] = 95;  // min above max: the stored limits are broken
  auto out = fn->invoke(call.value(90).invocation());
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().message, "limits are inconsistent: min 95 >= max 80");

  call.values["min"] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(fn->invoke(call.invocation()).has_value());
}

TEST(BuiltinThresholdTest, NeedsAtLeastOneOrderedLimit) {
  EXPECT_EQ(testing::validationError(makeSpec("threshold", {})),
            "spec.params needs min, max or both");
  EXPECT_EQ(testing::validationError(makeSpec("threshold", {{"min", 5}, {"max", 5}})),
            "spec.params.min must be < spec.params.max (got 5 >= 5)");
  EXPECT_EQ(testing::validationError(
                makeSpec("threshold", {{"max", 1}}, {testing::windowBinding("max", 3)})),
            "spec.inputs.max must be a kv binding (got window)");
}

}  // namespace
}  // namespace sie::builtin
