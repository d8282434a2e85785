#include <limits>

#include <gtest/gtest.h>

#include "call_builder.h"

namespace sie::builtin {
namespace {

using testing::Call;
using testing::kSecond;
using testing::makeSpec;
using testing::sample;
using testing::windowBinding;

FunctionSpec spec(double max_rate = 10.0) {
  return makeSpec("rate_of_change", {{"max_rate", max_rate}}, {windowBinding("history", 3)});
}

TEST(BuiltinRateOfChangeTest, ComparesAgainstTheNewestReading) {
  auto fn = testing::instantiate(spec());
  Call call(spec());
  call.windows["history"] = {sample(0, 100.0), sample(9 * kSecond, 10.0)};

  auto d = testing::decide(*fn, call.value(15.0, 10 * kSecond));  // +5/s
  EXPECT_EQ(d.label, "normal");
  EXPECT_FALSE(d.anomaly);
  EXPECT_DOUBLE_EQ(d.score, 0.5);

  d = testing::decide(*fn, call.value(20.0, 10 * kSecond));  // +10/s: at the limit
  EXPECT_FALSE(d.anomaly);

  d = testing::decide(*fn, call.value(22.0, 9 * kSecond + kSecond / 2));  // +24/s
  EXPECT_EQ(d.label, "rising");
  EXPECT_TRUE(d.anomaly);
  EXPECT_DOUBLE_EQ(d.score, 2.4);

  d = testing::decide(*fn, call.value(-5.0, 10 * kSecond));  // -15/s
  EXPECT_EQ(d.label, "falling");
  EXPECT_TRUE(d.anomaly);
  EXPECT_DOUBLE_EQ(d.score, 1.5);
}

TEST(BuiltinRateOfChangeTest, OutOfOrderReadingsAreNotScored) {
  auto fn = testing::instantiate(spec());
  Call call(spec());
  call.windows["history"] = {sample(5 * kSecond, 10.0)};
  for (std::int64_t ts : {5 * kSecond, 4 * kSecond}) {
    auto d = testing::decide(*fn, call.value(1000.0, ts));
    EXPECT_EQ(d.label, "out-of-order");
    EXPECT_FALSE(d.anomaly);
    EXPECT_EQ(d.score, 0.0);
  }
}

TEST(BuiltinRateOfChangeTest, SkipsUnusablePreviousReadings) {
  auto fn = testing::instantiate(spec());
  Call call(spec());
  call.windows["history"] = {sample(0, 10.0), sample(kSecond, 500.0, Quality::kBad),
                             sample(2 * kSecond, std::numeric_limits<double>::quiet_NaN())};
  auto d = testing::decide(*fn, call.value(22.0, 2 * kSecond));  // against t=0: +6/s
  EXPECT_DOUBLE_EQ(d.score, 0.6);

  call.windows["history"] = {sample(0, std::numeric_limits<double>::infinity())};
  EXPECT_EQ(testing::decide(*fn, call.value(1.0, kSecond)).label, "warming-up");
  call.windows.clear();
  EXPECT_EQ(testing::decide(*fn, call.value(1.0, kSecond)).label, "warming-up");
}

TEST(BuiltinRateOfChangeTest, OverflowingRatesSaturate) {
  auto fn = testing::instantiate(spec());
  Call call(spec());
  call.windows["history"] = {sample(std::numeric_limits<std::int64_t>::min(), 1e308)};
  auto d = testing::decide(*fn, call.value(-1e308, std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(d.label, "falling");
  EXPECT_TRUE(d.anomaly);
  EXPECT_EQ(d.score, std::numeric_limits<double>::max());
}

TEST(BuiltinRateOfChangeTest, ValidatesMaxRate) {
  EXPECT_EQ(testing::validationError(spec(0)), "spec.params.max_rate must be > 0 (got 0)");
  EXPECT_EQ(testing::validationError(makeSpec("rate_of_change", {{"max_rate", 1}})),
            "builtin handler 'rate_of_change' needs a window binding named 'history' in "
            "spec.inputs (the previous readings of the sensor, e.g. last: 1)");
}

}  // namespace
}  // namespace sie::builtin
