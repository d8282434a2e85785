// The process runtime with real sandboxed workers (sie-launch: rlimits, Landlock, own uid when
// run as root, seccomp), through the executor's public interface, as the node uses it:
//   BM_ColdStart/F        runtime->instantiate() (spawn -> worker ready) of an already prepared
//                         function; first_ms is the first instance, which also prepares it
//                         (sha256 of the executable, seccomp program)
//   BM_Invoke/F/window:N  one warm invocation (a reading and an N-sample window), node side
//                         round trip: encode, channel or Runtime API, worker, decode
//   BM_WireNodeSide/N     the node's share of it, in process: encode the invocation, decode a
//   result BM_SdkWorkerSide/N    the C++ worker's share, in process: what sie::worker::serve does
//   per
//                         invocation (parse, the example's reads of window and params, encode)
//   BM_IdleMemory/F/workers:N  RSS and PSS (/proc/PID/smaps_rollup) of N idle workers of one
//                         function, and the node's own RSS growth per worker
// F: cpp (examples/functions/pump-rule-cpp, native), python (pump-rule-py, native),
// lambda-echo (lambda_echo.cc, a keep-alive Lambda runtime client), lambda-echo-py
// (lambda_echo.py, the same with http.client), lambda-bash (pump-rule-lambda: curl per request),
// lambda-node (pump-rule-node: Node.js on AWS's aws-lambda-ric; `npm ci` in its folder first).
// Percentiles are over the iterations and reported as counters (p50 / p99 / max).
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include "config/function_manifest.h"
#include "exec/process/process_binding.h"
#include "exec/process/process_executor.h"
#include "exec/process/wire.h"
#include "sie/plugins.h"
#include "sie/worker.h"  // sdk/cpp

namespace {

using sie::FunctionInstance;
using sie::FunctionSpec;
using Clock = std::chrono::steady_clock;

struct Function {
  const char* key;
  std::string manifest;
};

const std::vector<Function>& functions() {
  static const std::vector<Function> all{
      {"cpp", SIE_BINARY_DIR "/examples/functions/pump-rule-cpp/function.yaml"},
      {"python", SIE_SOURCE_DIR "/examples/functions/pump-rule-py/function.yaml"},
      {"lambda-echo", SIE_BENCH_DIR "/lambda-echo.yaml"},
      {"lambda-echo-py", SIE_SOURCE_DIR "/bench/process/lambda-echo-py.yaml"},
      {"lambda-bash", SIE_SOURCE_DIR "/examples/functions/pump-rule-lambda/function.yaml"},
      {"lambda-node", SIE_SOURCE_DIR "/examples/functions/pump-rule-node/function.yaml"},
  };
  return all;
}

const Function& function(const std::string& key) {
  for (const auto& f : functions()) {
    if (key == f.key) return f;
  }
  std::fprintf(stderr, "no function %s\n", key.c_str());
  std::abort();
}

FunctionSpec loadSpec(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read %s (build the targets pump-rule and lambda-echo)\n",
                 path.c_str());
    std::abort();
  }
  std::string text{std::istreambuf_iterator<char>(in), {}};
  sie::Plugins plugins;  // the process runtime reads its own block of the manifest
  if (!sie::registerBuiltinPlugins(plugins)) std::abort();
  auto specs =
      sie::node::parseManifests({path, std::move(text)}, sie::node::schemasOf(plugins.runtimes));
  if (!specs) {
    std::fprintf(stderr, "%s\n", specs.error().str().c_str());
    std::abort();
  }
  return specs->front();
}

// One invocation's inputs, kept alive for the Invocation that refers to them (as in
// test/integration/process_test.cc): a bearing temperature after `history` readings at 40 degC.
struct Call {
  sie::Event event;
  sie::Telemetry reading;
  std::map<std::string, std::vector<sie::Sample>, std::less<>> windows;
  std::map<std::string, double, std::less<>> values;

  [[nodiscard]] sie::Invocation of(const FunctionSpec& spec) const {
    return {event, reading, windows, values, spec};
  }
};

Call bearing(double value, std::size_t history) {
  Call c;
  c.event.id = "ev-1";
  c.event.type = std::string(sie::kTelemetryType);
  c.reading.sensor = sie::Symbol::intern("rotating/pump1/bearing_temp");
  c.reading.ts_ns = 1'700'000'000'000'000'000;
  c.reading.values = {value};
  auto& w = c.windows["history"];
  for (std::size_t i = 0; i < history; ++i) {
    w.push_back(
        sie::Sample{c.reading.ts_ns - static_cast<std::int64_t>(history - i) * 1'000'000'000,
                    {40.0 + (i % 2 == 0 ? 0.2 : -0.2)}});
  }
  return c;
}

// Latencies of the iterations, reported as p50 / p99 / max counters.
class Latencies {
 public:
  explicit Latencies(std::size_t expected) { samples_.reserve(expected); }
  void add(Clock::duration d) { samples_.push_back(std::chrono::duration<double>(d).count()); }

  void report(benchmark::State& state, const char* unit, double per_second) {
    if (samples_.empty()) return;
    std::sort(samples_.begin(), samples_.end());
    auto at = [&](double q) {
      const auto i = std::min(samples_.size() - 1,
                              static_cast<std::size_t>(q * static_cast<double>(samples_.size())));
      return samples_[i] * per_second;
    };
    state.counters[std::string("p50_") + unit] = at(0.50);
    state.counters[std::string("p99_") + unit] = at(0.99);
    state.counters[std::string("max_") + unit] = samples_.back() * per_second;
  }

 private:
  std::vector<double> samples_;
};

std::unique_ptr<FunctionInstance> start(sie::Executor& runtime, const FunctionSpec& spec,
                                        benchmark::State& state) {
  auto instance = runtime.instantiate(spec);
  if (!instance) {
    state.SkipWithError(instance.error().str().c_str());
    return nullptr;
  }
  return std::move(*instance);
}

void coldStart(benchmark::State& state, const std::string& key) {
  const FunctionSpec spec = loadSpec(function(key).manifest);
  auto runtime = sie::process::makeExecutor();
  const auto first_begin = Clock::now();
  auto first = start(*runtime, spec, state);
  const auto first_time = Clock::now() - first_begin;
  if (!first) return;
  first.reset();
  Latencies latencies(static_cast<std::size_t>(state.max_iterations));
  for (auto _ : state) {
    const auto begin = Clock::now();
    auto instance = runtime->instantiate(spec);
    const auto elapsed = Clock::now() - begin;
    if (!instance) {
      state.SkipWithError(instance.error().str().c_str());
      break;
    }
    state.SetIterationTime(std::chrono::duration<double>(elapsed).count());
    latencies.add(elapsed);
    instance->reset();  // stop the worker outside the measured time
  }
  latencies.report(state, "ms", 1e3);
  state.counters["first_ms"] = std::chrono::duration<double, std::milli>(first_time).count();
}

void invoke(benchmark::State& state, const std::string& key) {
  const auto history = static_cast<std::size_t>(state.range(0));
  const FunctionSpec spec = loadSpec(function(key).manifest);
  auto runtime = sie::process::makeExecutor();
  auto instance = start(*runtime, spec, state);
  if (!instance) return;
  const Call call = bearing(55.0, history);
  const sie::Invocation invocation = call.of(spec);
  for (int i = 0; i < 20; ++i) {  // warm: first-use page faults, Python's code paths
    if (auto out = instance->invoke(invocation); !out) {
      state.SkipWithError(out.error().str().c_str());
      return;
    }
  }
  Latencies latencies(static_cast<std::size_t>(state.max_iterations));
  for (auto _ : state) {
    const auto begin = Clock::now();
    auto out = instance->invoke(invocation);
    const auto elapsed = Clock::now() - begin;
    if (!out || !out->decision) {
      state.SkipWithError(out ? "no decision" : out.error().str().c_str());
      break;
    }
    benchmark::DoNotOptimize(out);
    latencies.add(elapsed);
  }
  latencies.report(state, "us", 1e6);
  // What goes over the channel: a 'B' frame to the native SDKs' workers, JSON to Lambda ones.
  state.counters["request_B"] =
      static_cast<double>((sie::process::processBinding(spec)->protocol ==
                                   sie::process::ProcessBinding::Protocol::kNative
                               ? sie::process::invocationFrame(invocation, 0)
                               : sie::process::invocationJson(invocation, 0))
                              .size());
}

void wireNodeSide(benchmark::State& state) {
  const auto history = static_cast<std::size_t>(state.range(0));
  const FunctionSpec spec = loadSpec(function("cpp").manifest);
  const Call call = bearing(55.0, history);
  const sie::Invocation invocation = call.of(spec);
  const std::string result =
      R"({"decision":{"anomaly":true,"detail":"55.0 degC, +15.0 from the mean of 60","label":"overheating","score":0.9375}})";
  const bool binary = state.range(1) != 0;
  for (auto _ : state) {
    auto body = binary ? sie::process::invocationFrame(invocation, 1'700'000'000'000)
                       : sie::process::invocationJson(invocation, 1'700'000'000'000);
    benchmark::DoNotOptimize(body);
    auto out = sie::process::parseResult(result);
    benchmark::DoNotOptimize(out);
  }
}

void sdkWorkerSide(benchmark::State& state) {
  const auto history = static_cast<std::size_t>(state.range(0));
  const FunctionSpec spec = loadSpec(function("cpp").manifest);
  const Call call = bearing(55.0, history);
  const bool binary = state.range(1) != 0;
  const std::string body = binary ? sie::process::invocationFrame(call.of(spec), 1'700'000'000'000)
                                  : sie::process::invocationJson(call.of(spec), 1'700'000'000'000);
  for (auto _ : state) {
    const sie::worker::Invocation in = sie::worker::parseInvocation(binary ? 'B' : 'I', body);
    const sie::worker::Window window = in.window("history");
    const double limit = in.param("rise_limit", 8.0) + in.param("max_temp", 90.0);
    const auto result = sie::worker::Result::of({.score = in.value() / limit,
                                                 .anomaly = window.size() > 10,
                                                 .label = "overheating",
                                                 .detail = "55.0 degC, +15.0 from the mean of 60"});
    auto reply = result.json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    benchmark::DoNotOptimize(reply);
  }
}

// Direct children of this process: the workers (sie-launch execs into them).
std::vector<pid_t> children() {
  std::vector<pid_t> out;
  const pid_t self = getpid();
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* entry = readdir(proc)) {
    const pid_t pid = std::atoi(entry->d_name);
    if (pid <= 0) continue;
    std::ifstream in(std::string("/proc/") + entry->d_name + "/stat");
    std::string stat{std::istreambuf_iterator<char>(in), {}};
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 1));
    std::string state_char;
    pid_t ppid = 0;
    fields >> state_char >> ppid;
    if (ppid == self) out.push_back(pid);
  }
  closedir(proc);
  return out;
}

// kB fields of a /proc file ("Rss:  1234 kB").
std::map<std::string, double> kbFields(const std::string& path) {
  std::map<std::string, double> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || line.find(" kB") == std::string::npos) continue;
    out[line.substr(0, colon)] = std::strtod(line.c_str() + colon + 1, nullptr);
  }
  return out;
}

void idleMemory(benchmark::State& state, const std::string& key) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const FunctionSpec spec = loadSpec(function(key).manifest);
  auto runtime = sie::process::makeExecutor();
  const Call call = bearing(55.0, 60);
  const sie::Invocation invocation = call.of(spec);
  for (auto _ : state) {
    if (!children().empty()) {
      state.SkipWithError("workers of an earlier benchmark are still running");
      break;
    }
    // A first instance prepares the function (and starts the node-side machinery once).
    auto warmup = start(*runtime, spec, state);
    if (!warmup) break;
    warmup.reset();
    const double node_before = kbFields("/proc/self/status")["VmRSS"];
    std::vector<std::unique_ptr<FunctionInstance>> instances;
    for (std::size_t i = 0; i < n; ++i) {
      auto instance = start(*runtime, spec, state);
      if (!instance) return;
      for (int k = 0; k < 10; ++k) {  // idle after serving, not just after start
        if (auto out = instance->invoke(invocation); !out) {
          state.SkipWithError(out.error().str().c_str());
          return;
        }
      }
      instances.push_back(std::move(instance));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto pids = children();
    if (pids.size() != n) {
      state.SkipWithError(
          ("expected " + std::to_string(n) + " workers, found " + std::to_string(pids.size()))
              .c_str());
      break;
    }
    double rss = 0, pss = 0, uss = 0;
    for (const pid_t pid : pids) {
      auto rollup = kbFields("/proc/" + std::to_string(pid) + "/smaps_rollup");
      rss += rollup["Rss"];
      pss += rollup["Pss"];
      uss += rollup["Private_Clean"] + rollup["Private_Dirty"];
    }
    const double node_after = kbFields("/proc/self/status")["VmRSS"];
    const double per = 1.0 / 1024.0 / static_cast<double>(n);
    state.counters["rss_MiB"] = rss * per;
    state.counters["pss_MiB"] = pss * per;
    state.counters["uss_MiB"] = uss * per;
    state.counters["node_rss_MiB"] = (node_after - node_before) * per;
    instances.clear();
  }
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // workers' output lines
  const auto all = {"cpp", "python", "lambda-echo", "lambda-echo-py", "lambda-bash", "lambda-node"};
  for (const char* key : all) {
    const std::string k = key;
    const bool slow = k == "python" || k == "lambda-echo-py" || k == "lambda-bash";
    benchmark::RegisterBenchmark(("BM_ColdStart/" + k).c_str(), coldStart, k)
        ->UseManualTime()
        ->Iterations(k == "lambda-node" ? 50
                     : slow             ? 200
                                        : 500)
        ->Unit(benchmark::kMillisecond);
  }
  for (const char* key : all) {
    const std::string k = key;
    auto* b = benchmark::RegisterBenchmark(("BM_Invoke/" + k).c_str(), invoke, k)
                  ->ArgName("window")
                  ->Unit(benchmark::kMicrosecond);
    if (k == "lambda-bash") {
      b->Arg(60)->Iterations(200);
    } else if (k == "cpp" || k == "lambda-echo") {
      b->Arg(0)->Arg(60)->Iterations(20000);
    } else {
      b->Arg(60)->Iterations(5000);
    }
  }
  benchmark::RegisterBenchmark("BM_WireNodeSide", wireNodeSide)
      ->ArgNames({"window", "binary"})
      ->ArgsProduct({{0, 60}, {0, 1}})
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_SdkWorkerSide", sdkWorkerSide)
      ->ArgNames({"window", "binary"})
      ->ArgsProduct({{0, 60}, {0, 1}})
      ->Unit(benchmark::kMicrosecond);
  for (const char* key : {"cpp", "python", "lambda-echo", "lambda-echo-py", "lambda-node"}) {
    benchmark::RegisterBenchmark((std::string("BM_IdleMemory/") + key).c_str(), idleMemory,
                                 std::string(key))
        ->ArgName("workers")
        ->Arg(1)
        ->Arg(8)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
