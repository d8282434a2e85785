#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "call_builder.h"

namespace sie::builtin {
namespace {

using testing::Call;
using testing::kSecond;
using testing::makeSpec;
using testing::sample;
using testing::windowBinding;

FunctionSpec spec(std::map<std::string, double> params = {}) {
  return makeSpec("zscore", std::move(params), {windowBinding("history", 60)});
}

// History alternating 9 and 11: mean 10, sample standard deviation sqrt(10/9).
Call alternating(std::size_t n, const FunctionSpec& s = spec()) {
  Call call(s);
  for (std::size_t i = 0; i < n; ++i) {
    call.windows["history"].push_back(
        sample(static_cast<std::int64_t>(i) * kSecond, i % 2 ? 11 : 9));
  }
  return call;
}

TEST(BuiltinZscoreTest, ScoresTheDistanceInStandardDeviations) {
  auto fn = testing::instantiate(spec());
  Call call = alternating(10);
  const double std_dev = std::sqrt(10.0 / 9.0);

  auto d = testing::decide(*fn, call.value(13.0));
  EXPECT_FALSE(d.anomaly);
  EXPECT_EQ(d.label, "normal");
  EXPECT_NEAR(d.score, 3.0 / std_dev, 1e-12);

  d = testing::decide(*fn, call.value(13.5));
  EXPECT_TRUE(d.anomaly);
  EXPECT_EQ(d.label, "spike");
  EXPECT_NEAR(d.score, 3.5 / std_dev, 1e-12);

  d = testing::decide(*fn, call.value(6.0));
  EXPECT_TRUE(d.anomaly);
  EXPECT_EQ(d.label, "dip");
  EXPECT_NEAR(d.score, 4.0 / std_dev, 1e-12);
}

TEST(BuiltinZscoreTest, NoisyStreamIsNormalAndASpikeIsNot) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(20.0, 0.5);
  auto fn = testing::instantiate(spec());
  Call call(spec());
  auto& history = call.windows["history"];
  for (int i = 0; i < 60; ++i) history.push_back(sample(i * kSecond, noise(rng)));
  EXPECT_FALSE(testing::decide(*fn, call.value(noise(rng))).anomaly);
  auto d = testing::decide(*fn, call.value(25.0));
  EXPECT_TRUE(d.anomaly);
  EXPECT_GT(d.score, 8.0);
}

TEST(BuiltinZscoreTest, WarmsUpUntilMinSamples) {
  auto fn = testing::instantiate(spec({{"min_samples", 10}}));
  Call call = alternating(9);
  auto d = testing::decide(*fn, call.value(100.0));
  EXPECT_EQ(d.label, "warming-up");
  EXPECT_FALSE(d.anomaly);
  EXPECT_EQ(d.score, 0.0);
  EXPECT_EQ(d.detail, "9 usable readings in history, need 10");

  Call empty(spec());
  EXPECT_EQ(testing::decide(*fn, empty.value(1.0)).label, "warming-up");
}

TEST(BuiltinZscoreTest, SkipsUnusableHistory) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto fn = testing::instantiate(spec());
  Call clean = alternating(10);
  Call dirty = alternating(10);
  auto& h = dirty.windows["history"];
  h.insert(h.begin() + 3, sample(0, nan));
  h.insert(h.begin() + 5, sample(0, std::numeric_limits<double>::infinity()));
  h.insert(h.begin() + 7, sample(0, 1e9, Quality::kBad));
  h.insert(h.begin() + 8, Sample{0, {}, Quality::kGood});
  const auto a = testing::decide(*fn, clean.value(13.5));
  const auto b = testing::decide(*fn, dirty.value(13.5));
  EXPECT_EQ(a.score, b.score);
  EXPECT_EQ(a.label, b.label);

  Call all_nan(spec());
  for (int i = 0; i < 20; ++i) all_nan.windows["history"].push_back(sample(i, nan));
  EXPECT_EQ(testing::decide(*fn, all_nan.value(1.0)).label, "warming-up");
}

TEST(BuiltinZscoreTest, FlatHistoryUsesTheStdFloor) {
  auto fn = testing::instantiate(spec({{"min_std", 0.01}}));
  Call call(spec());
  for (int i = 0; i < 20; ++i) call.windows["history"].push_back(sample(i, 5.0));
  auto d = testing::decide(*fn, call.value(5.0));
  EXPECT_FALSE(d.anomaly);
  EXPECT_EQ(d.score, 0.0);
  d = testing::decide(*fn, call.value(5.1));
  EXPECT_TRUE(d.anomaly);
  EXPECT_NEAR(d.score, 10.0, 1e-9);
}

TEST(BuiltinZscoreTest, BlocksCountAsTheirMean) {
  auto fn = testing::instantiate(spec());
  Call call = alternating(10);
  call.windows["history"].back().values = {10.0, 12.0};  // mean 11, same as before
  call.reading.values = {9.0, 13.0, 18.0};               // mean 13.333...
  const double std_dev = std::sqrt(10.0 / 9.0);
  EXPECT_NEAR(testing::decide(*fn, call).score, (40.0 / 3.0 - 10.0) / std_dev, 1e-12);
}

TEST(BuiltinZscoreTest, ValidatesWindowAgainstMinSamples) {
  EXPECT_EQ(testing::validationError(
                makeSpec("zscore", {{"min_samples", 30}}, {windowBinding("history", 20)})),
            "spec.inputs.history.last must be >= spec.params.min_samples (20 < 30)");
  EXPECT_EQ(testing::validationError(
                makeSpec("zscore", {{"min_samples", 1}}, {windowBinding("history", 20)})),
            "spec.params.min_samples must be >= 2 (got 1)");
  EXPECT_EQ(testing::validationError(
                makeSpec("zscore", {{"min_std", 0}}, {windowBinding("history", 20)})),
            "spec.params.min_std must be > 0 (got 0)");
}

}  // namespace
}  // namespace sie::builtin
