// The builtin runtime as a whole: handler table, deploy-time validation, answers shared by every
// handler (bad quality, invalid values), metrics.
#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "call_builder.h"
#include "exec/builtin/handler.h"
#include "sie/metrics.h"

namespace sie::builtin {
namespace {

using testing::Call;
using ::testing::HasSubstr;
using testing::kvBinding;
using testing::makeSpec;
using testing::validationError;
using testing::windowBinding;

// A valid spec for every handler.
std::vector<FunctionSpec> validSpecs() {
  return {
      makeSpec("zscore", {}, {windowBinding("history", 60)}),
      makeSpec("threshold", {{"max", 100}}),
      makeSpec("adaptive_threshold", {},
               {kvBinding("mean", "b/{sensor}/mean"), kvBinding("var", "b/{sensor}/var"),
                kvBinding("n", "b/{sensor}/n")}),
      makeSpec("rate_of_change", {{"max_rate", 5}}, {windowBinding("history", 1)}),
      makeSpec("band_energy", {{"band_low_hz", 100}, {"band_high_hz", 200}, {"threshold", 1}}),
  };
}

TEST(BuiltinExecutorTest, IsNamedBuiltinAndAcceptsEveryValidSpec) {
  auto exec = makeExecutor();
  EXPECT_EQ(exec->name(), "builtin");
  for (const auto& spec : validSpecs()) {
    auto st = exec->validate(spec);
    EXPECT_TRUE(st.has_value()) << spec.handler << ": " << (st ? "" : st.error().str());
  }
}

TEST(BuiltinExecutorTest, RegisteringANameTwiceFails) {
  HandlerTable table("builtin handler");
  ASSERT_TRUE(registerHandlers(table).has_value());
  auto again = registerZscore(table);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::kAlreadyExists);
  EXPECT_EQ(again.error().message, "builtin handler 'zscore' is registered twice");
}

TEST(BuiltinExecutorTest, UnknownHandlerListsKnownOnes) {
  auto spec = makeSpec("zcore", {});
  auto st = makeExecutor()->validate(spec);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().where, "functions/test.yaml");
  EXPECT_EQ(st.error().message,
            "unknown builtin handler 'zcore' (known: adaptive_threshold, band_energy, "
            "rate_of_change, threshold, zscore)");
  EXPECT_FALSE(makeExecutor()->instantiate(spec).has_value());
}

TEST(BuiltinExecutorTest, RejectsAnotherRuntime) {
  auto spec = makeSpec("zscore", {}, {windowBinding("history", 60)});
  spec.runtime = "onnx";
  EXPECT_EQ(validationError(spec), "spec.runtime is 'onnx', not 'builtin'");
}

TEST(BuiltinExecutorTest, ParamErrorsNameTheField) {
  auto history = std::vector{windowBinding("history", 60)};
  EXPECT_EQ(validationError(makeSpec("zscore", {{"threshold", -1}}, history)),
            "spec.params.threshold must be > 0 (got -1)");
  EXPECT_EQ(validationError(makeSpec("zscore", {{"treshold", 2}}, history)),
            "spec.params.treshold is not a parameter of builtin handler 'zscore' (known: "
            "min_samples, min_std, threshold)");
  EXPECT_EQ(validationError(makeSpec("zscore", {{"min_samples", 2.5}}, history)),
            "spec.params.min_samples must be a whole number (got 2.5)");
  EXPECT_EQ(validationError(makeSpec(
                "zscore", {{"threshold", std::numeric_limits<double>::quiet_NaN()}}, history)),
            "spec.params.threshold must be a finite number (got nan)");
  EXPECT_EQ(validationError(
                makeSpec("adaptive_threshold", {{"alpha", 1.5}},
                         {kvBinding("mean", "m"), kvBinding("var", "v"), kvBinding("n", "n")})),
            "spec.params.alpha must be in (0, 1] (got 1.5)");
  EXPECT_EQ(validationError(makeSpec("rate_of_change", {}, {windowBinding("history", 1)})),
            "spec.params.max_rate is required (largest normal |change| per second, in the "
            "reading's units)");
}

TEST(BuiltinExecutorTest, BindingErrorsNameTheField) {
  EXPECT_EQ(validationError(makeSpec("zscore", {})),
            "builtin handler 'zscore' needs a window binding named 'history' in spec.inputs (the "
            "newest readings of the sensor, e.g. last: 60)");
  EXPECT_EQ(validationError(makeSpec("zscore", {}, {kvBinding("history", "k")})),
            "spec.inputs.history must be a window binding (got kv)");
  EXPECT_EQ(
      validationError(makeSpec("rate_of_change", {{"max_rate", 1}}, {windowBinding("history", 0)})),
      "spec.inputs.history.last must be >= 1 (got 0)");
  EXPECT_EQ(validationError(
                makeSpec("zscore", {}, {windowBinding("history", 60), windowBinding("other", 5)})),
            "spec.inputs.other is not used by builtin handler 'zscore' (known: history)");
  EXPECT_EQ(validationError(makeSpec("zscore", {},
                                     {windowBinding("history", 60), windowBinding("history", 5)})),
            "spec.inputs.history is declared twice");
  EXPECT_EQ(validationError(makeSpec("threshold", {{"max", 1}}, {kvBinding("max", "")})),
            "spec.inputs.max.key must not be empty");
}

TEST(BuiltinExecutorTest, BadQualityIsAnsweredUnscoredByEveryHandler) {
  for (const auto& spec : validSpecs()) {
    auto instance = testing::instantiate(spec);
    Call call(spec);
    call.value(1e6, 10 * testing::kSecond);
    call.reading.quality = Quality::kBad;
    call.reading.flag = "out of range";
    auto out = instance->invoke(call.invocation());
    ASSERT_TRUE(out.has_value()) << spec.handler;
    ASSERT_TRUE(out->decision.has_value());
    EXPECT_EQ(out->decision->label, "bad-quality") << spec.handler;
    EXPECT_EQ(out->decision->detail, "reading quality is bad: out of range");
    EXPECT_FALSE(out->decision->anomaly);
    EXPECT_EQ(out->decision->score, 0.0);
    EXPECT_TRUE(out->kv_writes.empty());
  }
}

TEST(BuiltinExecutorTest, NonFiniteOrEmptyReadingsAreInvalidValues) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const auto& spec : validSpecs()) {
    auto instance = testing::instantiate(spec);
    for (const std::vector<double>& values :
         {std::vector<double>{nan}, std::vector<double>{-inf}, std::vector<double>{1.0, inf, 2.0},
          std::vector<double>{}}) {
      Call call(spec);
      call.reading.values = values;
      call.reading.sample_period_ns = 500'000;
      auto out = instance->invoke(call.invocation());
      ASSERT_TRUE(out.has_value()) << spec.handler;
      ASSERT_TRUE(out->decision.has_value());
      EXPECT_EQ(out->decision->label, "invalid-value") << spec.handler;
      EXPECT_FALSE(out->decision->anomaly);
      EXPECT_TRUE(out->kv_writes.empty());
    }
  }
}

TEST(BuiltinExecutorTest, CountsInvocationsAndErrorsPerHandler) {
  auto spec =
      makeSpec("band_energy", {{"band_low_hz", 100}, {"band_high_hz", 200}, {"threshold", 1}});
  Counter& calls =
      metrics().counter("sie_builtin_invocations_total", "", {{"handler", "band_energy"}});
  Counter& errors = metrics().counter("sie_builtin_errors_total", "", {{"handler", "band_energy"}});
  const auto calls_before = calls.value();
  const auto errors_before = errors.value();
  auto instance = testing::instantiate(spec);
  Call call(spec);
  call.value(1.0);  // a single value, not a block: an error
  auto out = instance->invoke(call.invocation());
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().where, "test-fn@1");
  EXPECT_EQ(calls.value(), calls_before + 1);
  EXPECT_EQ(errors.value(), errors_before + 1);
  EXPECT_NE(metrics().render().find("sie_builtin_invocations_total{handler=\"band_energy\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace sie::builtin
