// The onnx runtime through the Executor interface: deploy-time validation of models and bindings,
// pre-processing (windows, zero-order hold, normalization, blocks), scoring, per-event errors.
#include "exec/onnx/model_binding.h"
#include "exec/onnx/model_info.h"
#include "exec/onnx/onnx_executor.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model_builder.h"
#include "sie/metrics.h"

namespace sie::onnx {
namespace {

using testing::bytesOf;
using testing::Dense;
using testing::denseModel;
using ::testing::HasSubstr;

constexpr std::int64_t kSecond = 1'000'000'000;

class OnnxExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sie-onnx-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void writeModel(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
  }

  FunctionSpec spec(const std::string& model, std::vector<InputBinding> inputs,
                    ModelBinding binding = {}) {
    FunctionSpec s;
    s.name = "model-fn";
    s.version = "1";
    s.runtime = "onnx";
    s.handler = model;
    s.triggers = {"plant/#"};
    s.inputs = std::move(inputs);
    s.settings = std::move(binding);
    s.source_file = "functions/model.yaml:3";
    s.base_dir = dir_.string();
    return s;
  }

  std::string validationError(const FunctionSpec& s) {
    auto st = exec_->validate(s);
    return st ? std::string() : st.error().str();
  }

  std::filesystem::path dir_;
  std::shared_ptr<Executor> exec_ = makeExecutor();
};

InputBinding window(std::string name, std::size_t last, std::string sensor = "") {
  InputBinding b;
  b.name = std::move(name);
  b.kind = InputBinding::Kind::kWindow;
  b.last = last;
  b.sensor = std::move(sensor);
  return b;
}

Sample at(std::int64_t s, double v, Quality q = Quality::kGood) {
  return Sample{s * kSecond, {v}, q};
}

struct Call {
  explicit Call(const FunctionSpec& s) : spec(s) {
    reading.sensor = Symbol::intern("plant/pump1/temp");
  }
  Call& trigger(std::int64_t s, std::vector<double> samples) {
    reading.ts_ns = s * kSecond;
    reading.values = std::move(samples);
    return *this;
  }
  [[nodiscard]] Invocation invocation() const { return {event, reading, windows, values, spec}; }
  const FunctionSpec& spec;
  Event event;
  Telemetry reading;
  std::map<std::string, std::vector<Sample>, std::less<>> windows;
  std::map<std::string, double, std::less<>> values;
};

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Two channels (temperature of the trigger, flow of another sensor), window 4, all weights 1:
// score = sigmoid(sum of normalized inputs + bias).
Dense twoChannelSum() {
  Dense d;
  d.in = 8;
  d.out = 1;
  d.weights.assign(8, 1.0F);
  d.bias = {-1.0F};
  d.metadata = {{"sie.channels", "temperature,flow"},
                {"sie.window", "4"},
                {"sie.mean", "10,0"},
                {"sie.std", "2,1"},
                {"sie.score", "probability"},
                {"sie.threshold", "0.9"}};
  return d;
}

TEST_F(OnnxExecutorTest, BuildsTheInputFromWindowsNormalizesAndScores) {
  writeModel("sum.onnx", bytesOf(denseModel(twoChannelSum())));
  const auto s = spec("sum.onnx", {window("temp", 3), window("flow", 4, "plant/{2}/flow")});
  ASSERT_EQ(validationError(s), "");
  auto instance = exec_->instantiate(s);
  ASSERT_TRUE(instance) << instance.error().str();

  Call call(s);
  call.trigger(4, {16});  // temperatures 10, 12, 14, 16 -> normalized 0, 1, 2, 3
  call.windows["temp"] = {at(1, 10), at(2, 12), at(3, 14)};
  // Flow is sampled at other times: held values at t = 1..4 are 1, 1, 2, 2.
  call.windows["flow"] = {at(0, 1), at(2, 0.5), at(2, 1), at(3, 2), at(5, 100)};
  auto out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out) << out.error().str();
  ASSERT_TRUE(out->decision);
  const double expected = sigmoid((0 + 1 + 2 + 3) + (1 + 1 + 2 + 2) - 1.0);
  EXPECT_NEAR(out->decision->score, expected, 1e-5);
  EXPECT_TRUE(out->decision->anomaly);  // threshold 0.9 from the metadata
  EXPECT_EQ(out->decision->label, "anomaly");

  // The manifest overrides the metadata.
  ModelBinding binding;
  binding.threshold = 0.99999999;
  binding.mean = {16, 2};
  binding.std = {1, 1};
  const auto strict =
      spec("sum.onnx", {window("temp", 3), window("flow", 4, "plant/{2}/flow")}, binding);
  auto strict_instance = exec_->instantiate(strict);
  ASSERT_TRUE(strict_instance) << strict_instance.error().str();
  Call again(strict);
  again.reading = call.reading;
  again.windows = call.windows;
  auto second = (*strict_instance)->invoke(again.invocation());
  ASSERT_TRUE(second && second->decision);
  EXPECT_NEAR(second->decision->score, sigmoid((-6 - 4 - 2 + 0) + (-1 - 1 + 0 + 0) - 1.0), 1e-5);
  EXPECT_FALSE(second->decision->anomaly);
}

TEST_F(OnnxExecutorTest, ColdWindowsAndBadValuesAreAnsweredWithoutRunningTheModel) {
  writeModel("sum.onnx", bytesOf(denseModel(twoChannelSum())));
  const auto s = spec("sum.onnx", {window("temp", 3), window("flow", 4, "plant/other/flow")});
  auto instance = exec_->instantiate(s);
  ASSERT_TRUE(instance) << instance.error().str();

  Call call(s);
  call.trigger(4, {16});
  call.windows["temp"] = {at(3, 14)};
  call.windows["flow"] = {at(0, 1)};
  auto out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out && out->decision);
  EXPECT_EQ(out->decision->label, "warming-up");
  EXPECT_THAT(out->decision->detail, HasSubstr("1 of 3 readings"));
  EXPECT_FALSE(out->decision->anomaly);

  call.windows["temp"] = {at(1, 10), at(2, NAN), at(3, 14)};
  call.windows["temp"][1].quality = Quality::kGood;
  out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out && out->decision);
  EXPECT_EQ(out->decision->label, "invalid-value");

  // A bad-quality reading in the window is skipped, like a gap.
  call.windows["temp"] = {at(0, 8), at(1, 10), at(2, 99, Quality::kBad), at(3, 14)};
  out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out && out->decision);
  EXPECT_NE(out->decision->label, "warming-up");

  // Flow has no reading at or before the window's first timestamp.
  call.windows["flow"] = {at(2, 1)};
  out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out && out->decision);
  EXPECT_EQ(out->decision->label, "warming-up");

  call.trigger(5, {NAN});
  out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out && out->decision);
  EXPECT_EQ(out->decision->label, "invalid-value");
}

Sample atMs(std::int64_t ms, double v) { return Sample{ms * 1'000'000, {v}, Quality::kGood}; }

// spec.model.resample: a regular timeline of window points (7, 8, 9, 10 s for a trigger at 10 s)
// in place of the trigger's own irregular readings, every channel sampled onto it.
TEST_F(OnnxExecutorTest, ResampledWindowsPutEveryChannelOnARegularTimeline) {
  writeModel("sum.onnx", bytesOf(denseModel(twoChannelSum())));
  const std::vector<InputBinding> inputs = {window("temp", 10),
                                            window("flow", 10, "plant/{2}/flow")};
  ModelBinding hold;
  hold.resample = std::chrono::seconds(1);
  ModelBinding linear = hold;
  linear.linear = true;
  const auto own = spec("sum.onnx", inputs);
  const auto held = spec("sum.onnx", inputs, hold);
  const auto interpolated = spec("sum.onnx", inputs, linear);

  const auto score = [&](const FunctionSpec& s, const std::vector<Sample>& temp,
                         const std::vector<Sample>& flow) {
    auto instance = exec_->instantiate(s);
    EXPECT_TRUE(instance) << instance.error().str();
    Call call(s);
    call.trigger(10, {16});
    call.windows["temp"] = temp;
    call.windows["flow"] = flow;
    auto out = (*instance)->invoke(call.invocation());
    EXPECT_TRUE(out && out->decision);
    return *out->decision;
  };
  const std::vector<Sample> temp = {atMs(5000, 10), atMs(8500, 12), atMs(9900, 14)};
  const std::vector<Sample> flow = {atMs(4000, 1), atMs(6000, 1), atMs(9000, 2)};

  // Held (normalized with mean 10, std 2 and 0, 1): temperature at 7, 8, 9, 10 s is 10, 10, 12,
  // 16 -> 0, 0, 1, 3; flow 1, 1, 2, 2.
  EXPECT_NEAR(score(held, temp, flow).score, sigmoid((0 + 0 + 1 + 3) + (1 + 1 + 2 + 2) - 1.0),
              1e-5);
  // Linear: temperature 10 + 2 * 2/3.5, 10 + 2 * 3/3.5, 12 + 2 * 0.5/1.4, 16; flow 1 + 1/3,
  // 1 + 2/3, 2, 2 (nothing after 9 s: held).
  const double t7 = (10 + 2 * 2 / 3.5 - 10) / 2, t8 = (10 + 2 * 3 / 3.5 - 10) / 2;
  const double t9 = (12 + 2 * 0.5 / 1.4 - 10) / 2;
  EXPECT_NEAR(score(interpolated, temp, flow).score,
              sigmoid((t7 + t8 + t9 + 3) + (1 + 1.0 / 3 + 1 + 2.0 / 3 + 2 + 2) - 1.0), 1e-5);
  // Without resampling the trigger's last three readings and itself are the window: 0, 1, 2, 3.
  EXPECT_NEAR(score(own, temp, flow).score, sigmoid((0 + 1 + 2 + 3) + (1 + 1 + 2 + 2) - 1.0), 1e-5);

  // History that does not reach back to the first point (7 s) is warming up, and says so.
  const Decision cold = score(held, {atMs(7500, 10), atMs(8500, 12)}, flow);
  EXPECT_EQ(cold.label, "warming-up");
  EXPECT_THAT(cold.detail, HasSubstr("'temp' has no reading 3 s before the trigger"));
  EXPECT_EQ(score(held, temp, {atMs(7100, 1)}).label, "warming-up");
}

TEST_F(OnnxExecutorTest, ReconstructionScoresTheMeanSquaredError) {
  Dense d;
  d.in = 4;
  d.out = 4;
  d.op = "";
  d.weights.assign(16, 0.0F);  // reconstructs everything as zero
  d.bias.assign(4, 0.0F);
  d.metadata = {{"sie.window", "4"}, {"sie.score", "reconstruction"}, {"sie.error_scale", "2"}};
  writeModel("ae.onnx", bytesOf(denseModel(d)));
  const auto s = spec("ae.onnx", {window("x", 3)});
  auto instance = exec_->instantiate(s);
  ASSERT_TRUE(instance) << instance.error().str();
  Call call(s);
  call.trigger(4, {2});
  call.windows["x"] = {at(1, 0), at(2, 2), at(3, 0)};
  auto out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out && out->decision) << (out ? "" : out.error().str());
  const double err = (0 + 4 + 0 + 4) / 4.0;
  EXPECT_NEAR(out->decision->score, err / (err + 2), 1e-6);
  EXPECT_THAT(out->decision->detail, HasSubstr("reconstruction error 2"));
}

TEST_F(OnnxExecutorTest, ResidualForecastsTheTriggerFromTheReadingsBeforeIt) {
  Dense d;
  d.in = 3;
  d.out = 1;
  d.op = "";
  d.weights = {0, 0, 1};  // forecast: the last reading again
  d.bias = {0};
  d.metadata = {{"sie.window", "3"},
                {"sie.score", "residual"},
                {"sie.error_scale", "1"},
                {"sie.mean", "0"},
                {"sie.std", "2"}};
  writeModel("persist.onnx", bytesOf(denseModel(d)));
  const auto s = spec("persist.onnx", {window("v", 3)});
  ASSERT_EQ(validationError(s), "");
  auto instance = exec_->instantiate(s);
  ASSERT_TRUE(instance) << instance.error().str();
  Call call(s);
  call.trigger(4, {10});
  call.windows["v"] = {at(1, 1), at(2, 2), at(3, 4)};
  auto out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out && out->decision) << (out ? "" : out.error().str());
  const double r = std::abs(10 - 4) / 2.0;
  EXPECT_NEAR(out->decision->score, r / (r + 1), 1e-6);
  EXPECT_TRUE(out->decision->anomaly);
}

TEST_F(OnnxExecutorTest, ABlockFeedsASingleChannelModelWithItsSamples) {
  Dense d;
  d.in = 8;
  d.out = 1;
  d.weights = {0, 0, 0, 0, 0, 0, 0, 1};  // the newest sample
  d.bias = {0};
  d.metadata = {{"sie.window", "8"}};
  writeModel("block.onnx", bytesOf(denseModel(d)));
  const auto s = spec("block.onnx", {window("vibration", 1)});
  auto instance = exec_->instantiate(s);
  ASSERT_TRUE(instance) << instance.error().str();
  Call call(s);
  call.trigger(1, {0, 0, 0, 0, 0, 0, 0, 3});
  auto out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out && out->decision) << (out ? "" : out.error().str());
  EXPECT_NEAR(out->decision->score, sigmoid(3), 1e-6);
}

TEST_F(OnnxExecutorTest, HopDecidesOncePerInterval) {
  writeModel("sum.onnx", bytesOf(denseModel(twoChannelSum())));
  ModelBinding binding;
  binding.hop = std::chrono::seconds(10);
  const auto s = spec("sum.onnx", {window("temp", 3), window("flow", 4, "plant/x/flow")}, binding);
  auto instance = exec_->instantiate(s);
  ASSERT_TRUE(instance) << instance.error().str();
  Call call(s);
  call.windows["temp"] = {at(11, 10), at(12, 12), at(13, 14)};
  call.windows["flow"] = {at(0, 1)};
  call.trigger(14, {16});  // same 10 s interval as the previous reading (13 s)
  auto out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->decision);
  call.windows["temp"] = {at(7, 10), at(8, 12), at(9, 14)};
  call.trigger(10, {16});  // first reading of a new interval
  out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->decision);
}

TEST_F(OnnxExecutorTest, AModelThatReturnsNanIsAPerEventError) {
  Dense d;
  d.in = 2;
  d.out = 1;
  d.op = "Log";  // log of a negative number
  d.weights = {1, 1};
  d.bias = {0};
  d.metadata = {{"sie.window", "2"}};
  writeModel("log.onnx", bytesOf(denseModel(d)));
  const auto s = spec("log.onnx", {window("x", 1)});
  auto instance = exec_->instantiate(s);
  ASSERT_TRUE(instance) << instance.error().str();
  Call call(s);
  call.trigger(2, {-5});
  call.windows["x"] = {at(1, -5)};
  auto out = (*instance)->invoke(call.invocation());
  ASSERT_FALSE(out);
  EXPECT_THAT(out.error().message, HasSubstr("NaN"));
}

TEST_F(OnnxExecutorTest, DeployRejectsBrokenModelsAndBindingsWithTheReason) {
  writeModel("sum.onnx", bytesOf(denseModel(twoChannelSum())));
  writeModel("ml.onnx", bytesOf(testing::withMlNode(denseModel(twoChannelSum()))));
  writeModel("garbage.onnx", "not a model");
  Dense wide = twoChannelSum();
  wide.in = 5;
  wide.weights.assign(5, 1.0F);
  writeModel("wide.onnx", bytesOf(denseModel(wide)));
  Dense ae = twoChannelSum();
  ae.metadata["sie.score"] = "reconstruction";
  writeModel("ae-no-scale.onnx", bytesOf(denseModel(ae)));

  const std::vector<InputBinding> two = {window("temp", 3), window("flow", 4, "plant/x/flow")};
  EXPECT_THAT(validationError(spec("ml.onnx", two)),
              HasSubstr("operator ai.onnx.ml:Normalizer is not supported by the opencv backend"));
  EXPECT_THAT(validationError(spec("garbage.onnx", two)), HasSubstr("not an ONNX model"));
  EXPECT_THAT(validationError(spec("missing.onnx", two)), HasSubstr("does not exist"));
  EXPECT_THAT(validationError(spec("wide.onnx", two)),
              HasSubstr("dimension 1 is 5, but 2 channel(s) × window 4 need 8"));
  EXPECT_THAT(validationError(spec("ae-no-scale.onnx", two)),
              HasSubstr("needs spec.model.errorScale"));
  EXPECT_THAT(validationError(spec("sum.onnx", {window("temp", 3)})),
              HasSubstr("the model takes 2 channels (temperature,flow), the function binds 1"));
  EXPECT_THAT(
      validationError(spec("sum.onnx", {window("flow", 4, "plant/x/flow"), window("temp", 3)})),
      HasSubstr("the first channel ('flow') must be the triggering sensor's window"));
  EXPECT_THAT(
      validationError(spec("sum.onnx", {window("temp", 3), window("flow", 2, "plant/x/flow")})),
      HasSubstr("input 'flow': last is 2 but the model's window of 4 needs 4"));
  ModelBinding zero_std;
  zero_std.mean = {0, 0};
  zero_std.std = {1, 0};
  EXPECT_THAT(validationError(spec("sum.onnx", two, zero_std)), HasSubstr("std must be > 0"));
  ModelBinding unknown_channel;
  unknown_channel.channels = {"temp", "nope"};
  EXPECT_THAT(validationError(spec("sum.onnx", two, unknown_channel)),
              HasSubstr("'nope' is not a window input"));
  // Every message is located at the manifest.
  EXPECT_THAT(validationError(spec("wide.onnx", two)), HasSubstr("functions/model.yaml:3"));
}

}  // namespace
}  // namespace sie::onnx

namespace sie::onnx {
namespace {

TEST_F(OnnxExecutorTest, ABatchRunsTheModelOnceAndScoresLikeSingleCalls) {
  writeModel("sum.onnx", bytesOf(denseModel(twoChannelSum())));
  const auto s = spec("sum.onnx", {window("temp", 3), window("flow", 4, "plant/x/flow")});
  auto instance = exec_->instantiate(s);
  ASSERT_TRUE(instance) << instance.error().str();
  std::vector<std::unique_ptr<Call>> owned;
  for (int k = 0; k < 5; ++k) {
    auto call = std::make_unique<Call>(s);
    call->trigger(4, {10.0 + k});
    call->windows["temp"] = {at(1, 10 - k), at(2, 11), at(3, 12 + k)};
    if (k == 2) call->windows["temp"].resize(1);  // cold: answered without the model
    call->windows["flow"] = {at(0, 0.5 * k)};
    owned.push_back(std::move(call));
  }
  std::vector<Invocation> calls;
  for (const auto& c : owned) calls.push_back(c->invocation());
  const double before = metrics().counterTotal("sie_onnx_inferences_total");
  auto batch = (*instance)->invokeBatch(calls);
  EXPECT_EQ(metrics().counterTotal("sie_onnx_inferences_total") - before, 4.0);
  ASSERT_EQ(batch.size(), calls.size());
  for (std::size_t k = 0; k < calls.size(); ++k) {
    auto single = (*instance)->invoke(calls[k]);
    ASSERT_TRUE(batch[k] && single) << k;
    ASSERT_TRUE(batch[k]->decision && single->decision) << k;
    EXPECT_EQ(batch[k]->decision->label, single->decision->label) << k;
    EXPECT_NEAR(batch[k]->decision->score, single->decision->score, 1e-6) << k;
  }
  EXPECT_EQ(batch[2]->decision->label, "warming-up");
}

}  // namespace
}  // namespace sie::onnx

namespace sie::onnx {
namespace {

TEST_F(OnnxExecutorTest, FitNormalizationTakesEachAssetsStatisticsFromTheKvInputs) {
  Dense d;
  d.in = 2;
  d.out = 1;
  d.weights = {0, 1};  // the newest normalized value
  d.bias = {0};
  d.metadata = {{"sie.window", "2"}, {"sie.mean", "0"}, {"sie.std", "1"}};
  writeModel("last.onnx", bytesOf(denseModel(d)));
  ModelBinding binding;
  binding.fit = true;
  InputBinding mean;
  mean.name = "x.mean";
  mean.kind = InputBinding::Kind::kKv;
  mean.key = "fit/{sensor}/mean";
  InputBinding std = mean;
  std.name = "x.std";
  std.key = "fit/{sensor}/std";
  const auto s = spec("last.onnx", {window("x", 1), mean, std}, binding);
  auto instance = exec_->instantiate(s);
  ASSERT_TRUE(instance) << instance.error().str();
  Call call(s);
  call.trigger(2, {14});
  call.windows["x"] = {at(1, 10)};
  // No statistics yet: the model's metadata (mean 0, std 1).
  auto out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out && out->decision);
  EXPECT_NEAR(out->decision->score, sigmoid(14), 1e-6);
  // This asset's fit: (14 - 10) / 2.
  call.values["x.mean"] = 10;
  call.values["x.std"] = 2;
  out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out && out->decision);
  EXPECT_NEAR(out->decision->score, sigmoid(2), 1e-6);
  // A constant signal's std of 0 is floored, not a division by zero.
  call.values["x.std"] = 0;
  out = (*instance)->invoke(call.invocation());
  ASSERT_TRUE(out && out->decision);
  EXPECT_TRUE(std::isfinite(out->decision->score));
}

}  // namespace
}  // namespace sie::onnx

namespace sie::onnx {
namespace {

TEST_F(OnnxExecutorTest, InstancesStartedLaterRunTheModelTheFunctionWasDeployedWith) {
  const std::string bytes = bytesOf(denseModel(twoChannelSum()));
  writeModel("sum.onnx", bytes);
  const auto s = spec("sum.onnx", {window("temp", 3), window("flow", 4, "plant/x/flow")});
  ASSERT_EQ(validationError(s), "");
  const auto artifact = exec_->artifact(s);
  EXPECT_EQ(artifact.at("sha256"), sha256Hex(testing::span(bytes)));
  EXPECT_EQ(artifact.at("modelVersion"), "3");
  writeModel("sum.onnx", "overwritten after the deploy");
  auto instance = exec_->instantiate(s);  // e.g. a scale-up: the deployed content, not the file
  ASSERT_TRUE(instance) << instance.error().str();
  EXPECT_EQ(exec_->artifact(s).at("sha256"), artifact.at("sha256"));
}

}  // namespace
}  // namespace sie::onnx
