// Windows as of the trigger, for every runtime: a function decides on a reading with the readings
// before it (its own sensor) and up to its moment (other channels), whatever was recorded since.
// Under load ingest runs ahead of dispatch, so a decision must not depend on when it was made:
// the same readings give the same decisions whether each is dispatched as it arrives, or all are
// recorded first and dispatched afterwards, one by one or in micro-batches.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <tuple>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config/function_manifest.h"
#include "runtime/actions.h"
#include "runtime/function_runner.h"
#include "runtime/local_bus.h"
#include "servers.h"
#include "sie/clock.h"
#include "sie/plugins.h"
#include "state/embedded_store.h"
#ifdef SIE_WITH_ONNX
#include "model_builder.h"
#include "runtime_schemas.h"
#endif

namespace sie::node {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr int kReadings = 40;

// The trigger's readings at odd seconds (a spike now and then), another channel's at even ones.
std::vector<Telemetry> readings(const std::string& trigger, const std::string& other) {
  std::vector<Telemetry> out;
  for (int i = 0; i < kReadings; ++i) {
    const double level = 40.0 + (i * 7 % 5) * 0.5 + (i % 9 == 8 ? 12.0 : 0.0);
    out.push_back(Telemetry{Symbol::intern(other), (2 * i + 2) * kSecond, {1.0 + (i % 4) * 0.25}});
    out.push_back(Telemetry{Symbol::intern(trigger), (2 * i + 3) * kSecond, {level}});
  }
  return out;
}

Event eventOf(const Telemetry& reading) {
  Event e;
  e.id = fmt::format("ev-{}", reading.ts_ns);
  e.type = std::string(kTelemetryType);
  e.subject = std::string(reading.sensor.str());
  e.telemetry = reading;
  return e;
}

using Decided = std::tuple<std::int64_t, double, bool, std::string, std::string>;

enum class Dispatch { kAsTheyArrive, kAfterAll, kAfterAllInBatches };

class WindowAsOfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chmod(dir_.path().c_str(), 0755);  // workers run as nobody when the tests run as root
    ASSERT_TRUE(registerBuiltinPlugins(plugins_));
  }

  FunctionSpec manifest(const std::string& text) {
    const std::string path = dir_.file("function.yaml");
    std::ofstream(path) << text;
    auto specs = parseManifests({path, text}, sie::testing::runtimeSchemas());
    EXPECT_TRUE(specs) << specs.error().str();
    return specs ? specs->front() : FunctionSpec{};
  }

  // Every decision the function makes on the trigger's readings, dispatched as `how` says.
  std::vector<Decided> decide(const FunctionSpec& spec, const std::vector<Telemetry>& input,
                              Dispatch how) {
    const std::string data = dir_.file(fmt::format("state-{}", runs_++));
    state::EmbeddedOptions o;
    o.data_dir = data;
    auto state = state::openEmbedded(o);
    EXPECT_TRUE(state) << state.error().str();
    LocalBus bus;
    Actions actions(bus, (*state)->audit(), systemClock());
    auto runtime = plugins_.runtimes.find(spec.runtime);
    EXPECT_TRUE(runtime) << runtime.error().str();
    std::vector<Decided> out;
    {
      FunctionRunner runner(spec, **runtime, **state, actions);
      EXPECT_TRUE(runner.warm());
      runner.tap([&](const Telemetry& r, const Decision& d) {
        out.emplace_back(r.ts_ns, d.score, d.anomaly, d.label, d.detail);
      });
      const Symbol trigger = input.back().sensor;
      std::vector<Event> events;
      for (const Telemetry& reading : input) {
        EXPECT_TRUE((*state)->timeSeries().append(reading));
        if (reading.sensor != trigger) continue;
        events.push_back(eventOf(reading));
        if (how == Dispatch::kAsTheyArrive) runner.handle(events.back());
      }
      if (how == Dispatch::kAfterAll) {
        for (const Event& e : events) runner.handle(e);
      } else if (how == Dispatch::kAfterAllInBatches) {
        for (std::size_t i = 0; i < events.size(); i += 8) {
          std::vector<const Event*> batch;
          for (std::size_t k = i; k < std::min(events.size(), i + 8); ++k) {
            batch.push_back(&events[k]);
          }
          runner.handleBatch(batch);
        }
      }
    }
    return out;
  }

  // The property: identical decisions however far ingest ran ahead of dispatch.
  void expectSameDecisionsHoweverDispatched(const FunctionSpec& spec, const std::string& trigger,
                                            const std::string& other) {
    const auto input = readings(trigger, other);
    const auto reference = decide(spec, input, Dispatch::kAsTheyArrive);
    ASSERT_EQ(reference.size(), static_cast<std::size_t>(kReadings));
    EXPECT_EQ(decide(spec, input, Dispatch::kAfterAll), reference);
    EXPECT_EQ(decide(spec, input, Dispatch::kAfterAllInBatches), reference);
  }

  testing::TempDir dir_;
  Plugins plugins_;
  int runs_ = 0;
};

TEST_F(WindowAsOfTest, BuiltinZscore) {
  const FunctionSpec spec = manifest(R"(apiVersion: sie/v1
kind: Function
metadata: {name: z, version: "1"}
spec:
  runtime: builtin
  handler: zscore
  triggers: ["plant/+/temp"]
  inputs: [{name: history, kind: window, last: 8}]
  params: {threshold: 3, min_samples: 4}
)");
  expectSameDecisionsHoweverDispatched(spec, "plant/pump1/temp", "plant/pump1/flow");
}

TEST_F(WindowAsOfTest, ProcessPythonWorker) {
  // The example's window is the 60 readings before the trigger; its detail names their count.
  const FunctionSpec spec = manifest(R"(apiVersion: sie/v1
kind: Function
metadata: {name: py, version: "1"}
spec:
  runtime: process
  handler: )" SIE_SOURCE_DIR R"(/examples/functions/pump-rule-py/handler.py
  triggers: ["rotating/+/bearing_temp"]
  inputs: [{name: history, kind: window, last: 12}]
  params: {rise_limit: 8, max_temp: 90}
  timeout: 2s
  process: {protocol: native, read: [")" SIE_SOURCE_DIR R"(/sdk/python"]}
)");
  expectSameDecisionsHoweverDispatched(spec, "rotating/pump1/bearing_temp", "rotating/pump1/flow");
}

#ifdef SIE_WITH_ONNX
TEST_F(WindowAsOfTest, OnnxTwoChannels) {
  // score = sigmoid(0.1 * (temperatures + flows, normalized) - 1) over a window of 4 per channel:
  // the trigger and the three readings before it, and the flow's 4 newest up to the trigger.
  onnx::testing::Dense d;
  d.in = 8;
  d.out = 1;
  d.weights.assign(8, 0.1F);
  d.bias = {-1.0F};
  d.metadata = {{"sie.channels", "temperature,flow"},
                {"sie.window", "4"},
                {"sie.mean", "40,1"},
                {"sie.std", "2,0.5"},
                {"sie.score", "probability"},
                {"sie.threshold", "0.5"}};
  std::ofstream(dir_.file("sum.onnx"), std::ios::binary)
      << onnx::testing::bytesOf(onnx::testing::denseModel(d));
  const FunctionSpec spec = manifest(R"(apiVersion: sie/v1
kind: Function
metadata: {name: m, version: "1"}
spec:
  runtime: onnx
  handler: sum.onnx
  triggers: ["plant/+/temp"]
  inputs:
    - {name: temperature, kind: window, last: 3}
    - {name: flow, kind: window, sensor: "plant/{2}/flow", last: 4}
)");
  expectSameDecisionsHoweverDispatched(spec, "plant/pump1/temp", "plant/pump1/flow");
}
#endif

}  // namespace
}  // namespace sie::node
