#include <charconv>
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "call_builder.h"

namespace sie::builtin {
namespace {

using testing::Call;
using testing::kvBinding;
using testing::makeSpec;

FunctionSpec spec(std::map<std::string, double> params = {}) {
  return makeSpec("adaptive_threshold", std::move(params),
                  {kvBinding("mean", "baseline/{function}/{sensor}/mean"),
                   kvBinding("var", "baseline/{function}/{sensor}/var"),
                   kvBinding("n", "baseline/{function}/{sensor}/n")});
}

double parse(const std::string& text) {
  double v = std::numeric_limits<double>::quiet_NaN();
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  EXPECT_TRUE(ec == std::errc() && end == text.data() + text.size()) << text;
  return v;
}

// Stands in for the state layer: applies kv writes and feeds kv bindings, keyed by template.
struct FakeKv {
  std::map<std::string, std::string> data;

  void load(Call& call) const {
    call.values.clear();
    for (const InputBinding& b : call.spec.inputs) {
      if (auto it = data.find(b.key); it != data.end()) call.values[b.name] = parse(it->second);
    }
  }
  void apply(const Output& out) {
    for (const KvWrite& w : out.kv_writes) data[w.key] = w.value;
  }
  [[nodiscard]] double get(const std::string& name) const {
    return parse(data.at("baseline/{function}/{sensor}/" + name));
  }
};

// One reading through `fn` with state from `kv`; returns the output and applies its writes.
Output step(FunctionInstance& fn, FakeKv& kv, Call& call, double x) {
  kv.load(call);
  call.value(x);
  auto out = fn.invoke(call.invocation());
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().str());
  if (!out) return {};
  kv.apply(*out);
  return *out;
}

std::vector<double> noisyStream(std::size_t n, double mean, double std_dev, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(mean, std_dev);
  std::vector<double> out(n);
  for (double& v : out) v = dist(rng);
  return out;
}

TEST(BuiltinAdaptiveThresholdTest, FirstReadingStartsTheBaseline) {
  auto fn = testing::instantiate(spec());
  FakeKv kv;
  Call call(spec());
  Output out = step(*fn, kv, call, 50.25);
  ASSERT_TRUE(out.decision.has_value());
  EXPECT_EQ(out.decision->label, "warming-up");
  EXPECT_FALSE(out.decision->anomaly);
  ASSERT_EQ(out.kv_writes.size(), 3u);
  EXPECT_EQ(out.kv_writes[0].key, "baseline/{function}/{sensor}/mean");
  EXPECT_EQ(out.kv_writes[0].value, "50.25");
  EXPECT_EQ(out.kv_writes[1].key, "baseline/{function}/{sensor}/var");
  EXPECT_EQ(out.kv_writes[1].value, "0");
  EXPECT_EQ(out.kv_writes[2].key, "baseline/{function}/{sensor}/n");
  EXPECT_EQ(out.kv_writes[2].value, "1");
}

TEST(BuiltinAdaptiveThresholdTest, WarmsUpThenConvergesToTheStream) {
  auto fn = testing::instantiate(spec());
  FakeKv kv;
  Call call(spec());
  const auto stream = noisyStream(2000, 50.0, 2.0, 11);
  int anomalies = 0;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    Output out = step(*fn, kv, call, stream[i]);
    EXPECT_EQ(out.decision->label == "warming-up", i < 20) << i;
    anomalies += out.decision->anomaly ? 1 : 0;
  }
  EXPECT_LE(anomalies, 2);  // k = 4: next to none on Gaussian noise
  EXPECT_NEAR(kv.get("mean"), 50.0, 1.0);
  EXPECT_NEAR(std::sqrt(kv.get("var")), 2.0, 0.5);
  EXPECT_EQ(kv.get("n"), 2000.0);
}

TEST(BuiltinAdaptiveThresholdTest, WarmupWeightsReadingsEqually) {
  auto fn = testing::instantiate(spec());
  FakeKv kv;
  Call call(spec());
  for (double x : {1.0, 2.0, 3.0, 4.0}) step(*fn, kv, call, x);
  EXPECT_DOUBLE_EQ(kv.get("mean"), 2.5);
  EXPECT_DOUBLE_EQ(kv.get("var"), 1.25);  // population variance
}

TEST(BuiltinAdaptiveThresholdTest, ASpikeIsFlaggedAndBarelyMovesTheBaseline) {
  auto fn = testing::instantiate(spec());
  FakeKv kv;
  Call call(spec());
  for (double x : noisyStream(300, 50.0, 2.0, 3)) step(*fn, kv, call, x);
  const double mean = kv.get("mean");
  const double var = kv.get("var");

  Output out = step(*fn, kv, call, mean + 20 * std::sqrt(var));
  EXPECT_TRUE(out.decision->anomaly);
  EXPECT_EQ(out.decision->label, "high");
  EXPECT_NEAR(out.decision->score, 20.0, 1e-9);
  EXPECT_EQ(kv.get("var"), var);
  EXPECT_NEAR(kv.get("mean"), mean + 0.05 * 4 * std::sqrt(var), 1e-9);

  out = step(*fn, kv, call, kv.get("mean") - 10 * std::sqrt(var));
  EXPECT_EQ(out.decision->label, "low");
}

TEST(BuiltinAdaptiveThresholdTest, ALastingLevelShiftIsAbsorbed) {
  auto fn = testing::instantiate(spec());
  FakeKv kv;
  Call call(spec());
  for (double x : noisyStream(300, 50.0, 2.0, 5)) step(*fn, kv, call, x);
  const auto shifted = noisyStream(400, 70.0, 2.0, 6);
  int late_anomalies = 0;
  for (std::size_t i = 0; i < shifted.size(); ++i) {
    Output out = step(*fn, kv, call, shifted[i]);
    if (i >= 300 && out.decision->anomaly) ++late_anomalies;
  }
  EXPECT_EQ(late_anomalies, 0);
  EXPECT_NEAR(kv.get("mean"), 70.0, 1.5);
}

TEST(BuiltinAdaptiveThresholdTest, InstancesAreInterchangeable) {
  auto stream = noisyStream(200, 10.0, 1.0, 9);
  stream[120] = 40.0;
  stream[150] = -20.0;
  auto one = testing::instantiate(spec());
  auto a = testing::instantiate(spec());
  auto b = testing::instantiate(spec());
  FakeKv kv_one;
  FakeKv kv_two;
  Call call_one(spec());
  Call call_two(spec());
  int anomalies = 0;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    Output single = step(*one, kv_one, call_one, stream[i]);
    Output alternate = step(i % 2 ? *a : *b, kv_two, call_two, stream[i]);
    ASSERT_EQ(single.decision->score, alternate.decision->score) << i;
    ASSERT_EQ(single.decision->anomaly, alternate.decision->anomaly) << i;
    ASSERT_EQ(single.decision->label, alternate.decision->label) << i;
    ASSERT_EQ(single.decision->detail, alternate.decision->detail) << i;
    anomalies += single.decision->anomaly ? 1 : 0;
  }
  EXPECT_EQ(kv_one.data, kv_two.data);
  EXPECT_GE(anomalies, 2);
}

TEST(BuiltinAdaptiveThresholdTest, UnusableStateIsRebuilt) {
  auto fn = testing::instantiate(spec());
  Call call(spec());
  call.value(7.0);
  using Values = std::map<std::string, double, std::less<>>;
  const std::vector<Values> broken = {
      {{"mean", std::numeric_limits<double>::quiet_NaN()}, {"var", 1}, {"n", 30}},
      {{"mean", 1}, {"var", -1}, {"n", 30}},
      {{"mean", 1}, {"var", 1}, {"n", 2.5}},
      {{"mean", 1}, {"var", 1}},  // n missing
  };
  for (const Values& values : broken) {
    call.values = values;
    auto out = fn->invoke(call.invocation());
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->decision->label, "warming-up");
    EXPECT_EQ(out->kv_writes[0].value, "7");
    EXPECT_EQ(out->kv_writes[2].value, "1");
  }
}

TEST(BuiltinAdaptiveThresholdTest, ValidatesParamsAndBindings) {
  EXPECT_EQ(testing::validationError(spec({{"alpha", 0}})),
            "spec.params.alpha must be in (0, 1] (got 0)");
  EXPECT_EQ(testing::validationError(spec({{"warmup", 0}})),
            "spec.params.warmup must be >= 1 (got 0)");
  EXPECT_EQ(testing::validationError(spec({{"k", -2}})), "spec.params.k must be > 0 (got -2)");
  auto missing = spec();
  missing.inputs.pop_back();
  EXPECT_EQ(testing::validationError(missing),
            "builtin handler 'adaptive_threshold' needs a kv binding named 'n' in spec.inputs "
            "(readings absorbed, e.g. key baseline/{function}/{sensor}/n)");
}

}  // namespace
}  // namespace sie::builtin
