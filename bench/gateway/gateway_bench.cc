// Gateway hot path: JSON decode alone, and the whole ingestRaw path (decode -> validate ->
// record -> deadband -> route) with stores and downstream that do nothing.
//   bench_gateway --benchmark_filter=. ; items_per_second is readings per second on one core.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "gateway/gateway.h"
#include "gateway/json_decoder.h"

namespace sie::gateway {
namespace {

constexpr int kSensors = 1000;
constexpr int kRounds = 200;  // payloads per sensor; the gateway is rebuilt after each pass
constexpr std::int64_t kStartNs = 1'764'300'000'000'000'000;

class NullSeries final : public TimeSeriesStore {
 public:
  Status append(const Telemetry&) override { return ok(); }
  Result<std::vector<Sample>> range(Symbol, std::int64_t, std::int64_t, std::size_t) override {
    return std::vector<Sample>{};
  }
  Result<std::vector<Sample>> lastUntil(Symbol, std::int64_t, std::size_t) override {
    return std::vector<Sample>{};
  }
};

class CountingDeadLetters final : public DeadLetterStore {
 public:
  Status put(DeadLetter) override {
    ++count_;
    return ok();
  }
  Result<std::vector<DeadLetter>> list(std::size_t) override { return std::vector<DeadLetter>{}; }
  Result<std::int64_t> count() override { return count_; }

 private:
  std::int64_t count_ = 0;
};

class NullDownstream final : public Downstream {
 public:
  Status deliver(Event&&, std::span<const std::uint32_t>) override { return ok(); }
};

std::string sensorName(int i) {
  return fmt::format("site/area{}/line{}/sensor{}", i % 10, (i / 10) % 10, i);
}

// kRounds readings of each of kSensors sensors, interleaved, each a random walk so the deadband
// passes roughly half of them.
const std::vector<std::string>& payloads() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(kSensors) * kRounds);
    std::vector<double> level(kSensors, 230.0);
    std::uint64_t rng = 42;
    for (int round = 0; round < kRounds; ++round) {
      for (int s = 0; s < kSensors; ++s) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        level[s] += (static_cast<double>(rng >> 40) / static_cast<double>(1 << 24) - 0.5) * 1.6;
        out.push_back(fmt::format(R"({{"sensor":"{}","ts":{},"value":{:.2f}}})", sensorName(s),
                                  kStartNs + std::int64_t{round} * 1'000'000, level[s]));
      }
    }
    return out;
  }();
  return all;
}

void BM_JsonDecode(benchmark::State& state) {
  const auto& all = payloads();
  std::vector<Decoded> out;
  std::size_t i = 0;
  for (auto _ : state) {
    out.clear();
    auto status = decodeJson(all[i], {}, JsonFlavor::kAny, out);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(out.data());
    if (++i == all.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(all[0].size()));
}
BENCHMARK(BM_JsonDecode);

GatewayConfig benchConfig() {
  const YAML::Node root = YAML::Load(R"(
routes:
  - match: "site/area0/#"
    validate: {min: -1000, max: 1000, onInvalid: flag}
    filters: [{type: deadband, delta: 0.5}]
  - match: "site/#"
    validate: {min: -1000, max: 1000}
    filters: [{type: deadband, delta: 0.5}]
)");
  return *parseGatewayConfig(root["gateway"], root["routes"], "bench");
}

std::vector<Trigger> benchTriggers() {
  std::vector<Trigger> triggers;
  for (std::uint32_t k = 0; k < 10; ++k) {
    triggers.push_back({*TopicPattern::parse(fmt::format("site/area{}/+/+", k)), k});
    triggers.push_back({*TopicPattern::parse(fmt::format("site/+/line{}/#", k)), 10 + k});
  }
  return triggers;
}

struct Rig {
  NullSeries series;
  CountingDeadLetters dead;
  NullDownstream downstream;
  Router router;
  std::unique_ptr<Gateway> gateway;

  Rig() { router.setTriggers(benchTriggers()); }
  void reset() {
    gateway = std::make_unique<Gateway>(
        benchConfig(), series, dead, nullptr, [] { return ok(); }, router, downstream,
        systemClock());
  }
};

void BM_IngestRawJson(benchmark::State& state) {
  const auto& all = payloads();
  Rig rig;
  rig.reset();
  std::size_t i = 0;
  for (auto _ : state) {
    auto status = rig.gateway->ingestRaw(RawMessage{"", all[i], "application/json", "bench"});
    benchmark::DoNotOptimize(status);
    if (++i == all.size()) {
      state.PauseTiming();  // timestamps repeat from here: start over with fresh sensor state
      rig.reset();
      i = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["dead_letters"] = static_cast<double>(*rig.dead.count());
}
BENCHMARK(BM_IngestRawJson);

void BM_IngestDecoded(benchmark::State& state) {
  Rig rig;
  rig.reset();
  std::vector<Symbol> sensors;
  sensors.reserve(kSensors);
  for (int s = 0; s < kSensors; ++s) sensors.push_back(Symbol::intern(sensorName(s)));
  std::int64_t ts = kStartNs;
  int s = 0;
  for (auto _ : state) {
    Telemetry t;
    t.sensor = sensors[static_cast<std::size_t>(s)];
    t.ts_ns = ts;
    t.values.assign(1, static_cast<double>(ts % 7));
    auto status = rig.gateway->ingest(std::move(t), "bench");
    benchmark::DoNotOptimize(status);
    if (++s == kSensors) {
      s = 0;
      ts += 1'000'000;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IngestDecoded);

}  // namespace
}  // namespace sie::gateway

BENCHMARK_MAIN();
