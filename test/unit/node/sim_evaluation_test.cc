#include "eval/sim_evaluation.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "sie/plugins.h"

namespace sie::node {
namespace {

constexpr const char* kSite = R"(apiVersion: sie/v1
kind: Site
metadata: {name: feeders}
spec:
  dataDir: /tmp/unused
  functions: fns
  sources:
    - {name: plant, type: sim, seed: 7, domains: [grid], faultRate: 30}
)";

// A z-score that needs 600 readings (one minute of a 10 Hz feeder) before it scores.
constexpr const char* kFunction = R"(apiVersion: sie/v1
kind: Function
metadata: {name: volts, version: "1"}
spec:
  runtime: builtin
  handler: zscore
  triggers: ["grid/+/voltage"]
  inputs:
    - {name: history, kind: window, last: 600}
  params: {threshold: 6, min_samples: 600}
)";

Result<FunctionScore> evaluate(std::chrono::seconds warmup) {
  auto site = parseSite({"s/site.yaml", kSite}, {{"s/fns/volts.yaml", kFunction}});
  if (!site) return tl::unexpected(site.error());
  Plugins plugins;
  SIE_CHECK(registerBuiltinPlugins(plugins));
  EvalOptions options;
  options.duration = std::chrono::seconds(120);
  options.warmup = warmup;
  options.baseline = false;
  options.scratch_dir =
      (std::filesystem::temp_directory_path() / ("sie-eval-test-" + std::to_string(::getpid())))
          .string();
  auto scores = SIE_TRY(evaluateOnSimulator(*site, plugins, options));
  return scores.at(0);
}

TEST(SimEvaluationTest, AWarmUpFillsTheWindowsAndIsNotScored) {
  auto cold = evaluate(std::chrono::seconds(0));
  ASSERT_TRUE(cold) << cold.error().str();
  auto warm = evaluate(std::chrono::seconds(90));
  ASSERT_TRUE(warm) << warm.error().str();
  // Without a warm-up each feeder's first minute is answered unscored; after 90 s of warm-up
  // every decision of the same 120 scored seconds is a real one.
  EXPECT_GT(cold->not_scored, cold->decisions / 3);
  EXPECT_EQ(warm->not_scored, 0U);
  EXPECT_NEAR(static_cast<double>(warm->decisions), static_cast<double>(cold->decisions),
              0.01 * static_cast<double>(cold->decisions));
  EXPECT_DOUBLE_EQ(warm->hours, 120.0 / 3600);
  EXPECT_FALSE(evaluate(std::chrono::seconds(-1)));
}

}  // namespace
}  // namespace sie::node
