// Embedded state backend hot paths: TimeSeriesStore::append (what the gateway calls for every
// reading) and lastN answered from memory (what window bindings call per invocation).
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "state/embedded_store.h"

namespace sie::state {
namespace {

constexpr int kSensors = 64;

class BenchDir {
 public:
  BenchDir() {
    std::string pattern = std::filesystem::temp_directory_path().string() + "/sie-bench-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~BenchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<Symbol> sensors() {
  std::vector<Symbol> out;
  out.reserve(kSensors);
  for (int i = 0; i < kSensors; ++i) out.push_back(Symbol::intern("bench/s" + std::to_string(i)));
  return out;
}

std::unique_ptr<StateStore> open(const std::string& dir) {
  EmbeddedOptions options;
  options.data_dir = dir;
  options.max_pending = std::size_t{1} << 24;
  auto store = openEmbedded(options);
  return store ? std::move(*store) : nullptr;
}

// Accept rate of append(): the writer commits in the background meanwhile.
void BM_Append(benchmark::State& state) {
  static BenchDir* dir = nullptr;
  static std::unique_ptr<StateStore> store;
  if (state.thread_index() == 0) {
    dir = new BenchDir();
    store = open(dir->path());
    if (!store) state.SkipWithError("cannot open the store");
  }
  const auto ids = sensors();
  Telemetry reading;
  reading.values = {1.0};
  // Each thread feeds its own sensors, as gateway threads do for their sources.
  const auto threads = static_cast<std::size_t>(state.threads());
  const auto offset = static_cast<std::size_t>(state.thread_index());
  std::int64_t i = 0;
  for (auto _ : state) {
    reading.sensor = ids[(static_cast<std::size_t>(i) * threads + offset) % kSensors];
    reading.ts_ns = ++i;
    reading.values[0] = static_cast<double>(i);
    benchmark::DoNotOptimize(store->timeSeries().append(reading));
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    (void)store->close();
    store.reset();
    delete dir;
  }
}
BENCHMARK(BM_Append)->Threads(1)->Threads(2)->UseRealTime();

// Sustained rate: batches of readings appended, then synced (committed and fsynced).
void BM_AppendAndSync(benchmark::State& state) {
  BenchDir dir;
  auto store = open(dir.path());
  if (!store) {
    state.SkipWithError("cannot open the store");
    return;
  }
  const auto ids = sensors();
  const auto batch = state.range(0);
  Telemetry reading;
  reading.values = {1.0};
  std::int64_t ts = 0;
  for (auto _ : state) {
    for (std::int64_t k = 0; k < batch; ++k) {
      reading.sensor = ids[static_cast<std::size_t>(k) % kSensors];
      reading.ts_ns = ++ts;
      benchmark::DoNotOptimize(store->timeSeries().append(reading));
    }
    if (!store->sync()) state.SkipWithError("sync failed");
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_AppendAndSync)
    ->Arg(10'000)
    ->Arg(100'000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// A vibration block of 256 samples per reading.
void BM_AppendBlock(benchmark::State& state) {
  BenchDir dir;
  auto store = open(dir.path());
  if (!store) {
    state.SkipWithError("cannot open the store");
    return;
  }
  Telemetry reading;
  reading.sensor = Symbol::intern("bench/vibration");
  reading.values.assign(256, 0.5);
  reading.sample_period_ns = 39'062;
  for (auto _ : state) {
    reading.ts_ns += 10'000'000;
    benchmark::DoNotOptimize(store->timeSeries().append(reading));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AppendBlock)->UseRealTime();

void BM_LastNFromMemory(benchmark::State& state) {
  BenchDir dir;
  auto store = open(dir.path());
  if (!store) {
    state.SkipWithError("cannot open the store");
    return;
  }
  const Symbol sensor = Symbol::intern("bench/window");
  Telemetry reading;
  reading.sensor = sensor;
  reading.values = {1.0};
  for (int i = 0; i < 2048; ++i) {
    reading.ts_ns = i;
    (void)store->timeSeries().append(reading);
  }
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(store->timeSeries().lastN(sensor, n));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LastNFromMemory)->Arg(1)->Arg(64)->Arg(1024);

// lastN beyond the memory window: a SQLite query.
void BM_LastNFromSqlite(benchmark::State& state) {
  BenchDir dir;
  const Symbol sensor = Symbol::intern("bench/history");
  {
    auto store = open(dir.path());
    if (!store) {
      state.SkipWithError("cannot open the store");
      return;
    }
    Telemetry reading;
    reading.sensor = sensor;
    reading.values = {1.0};
    for (int i = 0; i < 100'000; ++i) {
      reading.ts_ns = i;
      (void)store->timeSeries().append(reading);
    }
  }
  auto store = open(dir.path());  // empty rings: every lastN reads SQLite
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(store->timeSeries().lastN(sensor, n));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LastNFromSqlite)->Arg(64)->Arg(1024);

}  // namespace
}  // namespace sie::state

BENCHMARK_MAIN();
