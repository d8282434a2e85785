// Per-invocation cost of builtin handlers, through the executor as the node calls them.
#include <cmath>
#include <numbers>
#include <random>

#include <benchmark/benchmark.h>

#include "exec/builtin/builtin_executor.h"
#include "sie/function.h"

namespace sie::builtin {
namespace {

FunctionSpec makeSpec(std::string handler, std::map<std::string, double> params,
                      std::vector<InputBinding> inputs = {}) {
  FunctionSpec spec;
  spec.name = "bench";
  spec.version = "1";
  spec.runtime = "builtin";
  spec.handler = std::move(handler);
  spec.params = std::move(params);
  spec.inputs = std::move(inputs);
  return spec;
}

std::unique_ptr<FunctionInstance> instantiate(const FunctionSpec& spec, benchmark::State& state) {
  auto made = makeExecutor()->instantiate(spec);
  if (!made) {
    state.SkipWithError(made.error().str().c_str());
    return nullptr;
  }
  return std::move(*made);
}

void runLoop(benchmark::State& state, FunctionInstance& fn, const Invocation& call) {
  for (auto _ : state) {
    auto out = fn.invoke(call);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

void benchZscore(benchmark::State& state) {
  const auto window = static_cast<std::size_t>(state.range(0));
  InputBinding history{.name = "history", .kind = InputBinding::Kind::kWindow, .last = window};
  const auto spec = makeSpec("zscore", {}, {history});
  auto fn = instantiate(spec, state);
  if (!fn) return;
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(20.0, 1.0);
  std::map<std::string, std::vector<Sample>, std::less<>> windows;
  for (std::size_t i = 0; i < window; ++i) {
    windows["history"].push_back(
        Sample{static_cast<std::int64_t>(i), {noise(rng)}, Quality::kGood});
  }
  const std::map<std::string, double, std::less<>> values;
  Event event;
  Telemetry reading{.sensor = Symbol::intern("bench/temp"), .ts_ns = 1, .values = {21.0}};
  runLoop(state, *fn, Invocation{event, reading, windows, values, spec});
}
BENCHMARK(benchZscore)->Arg(60);

void benchBandEnergy(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto spec = makeSpec(
      "band_energy",
      {{"band_low_hz", 250}, {"band_high_hz", 350}, {"threshold", 0.3}, {"ratio_threshold", 0.5}});
  auto fn = instantiate(spec, state);
  if (!fn) return;
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0.0, 0.05);
  Telemetry reading{.sensor = Symbol::intern("bench/vib"), .ts_ns = 1, .sample_period_ns = 500'000};
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / 2000.0;
    reading.values.push_back(std::sin(2 * std::numbers::pi * 300.0 * t) + noise(rng));
  }
  const std::map<std::string, std::vector<Sample>, std::less<>> windows;
  const std::map<std::string, double, std::less<>> values;
  Event event;
  runLoop(state, *fn, Invocation{event, reading, windows, values, spec});
}
BENCHMARK(benchBandEnergy)->Arg(256)->Arg(1024);

}  // namespace
}  // namespace sie::builtin

BENCHMARK_MAIN();
