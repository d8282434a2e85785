// End-to-end load generator: drives an in-process node (gateway → dispatcher → function →
// actions → state) at a fixed event rate and reports event→action latency quantiles.
//   bench_pipeline [rate_per_s=100000] [seconds=10] [sensors=1000] [function=zscore]
// function: zscore (builtin, scalar readings), onnx (the pump-health model on 256-sample vibration
// blocks), onnx-batch (the same with micro-batches of up to 64 events).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "node/node.h"
#include "sie/metrics.h"
#include "sie/plugins.h"

namespace {

constexpr const char* kSite = R"(apiVersion: sie/v1
kind: Site
metadata: {name: bench}
spec:
  http: ""
  summaryInterval: 0
  dispatcher: {queueCapacity: 100000, overload: block}
)";

constexpr const char* kFunction = R"(apiVersion: sie/v1
kind: Function
metadata: {name: zs}
spec:
  runtime: builtin
  handler: zscore
  triggers: ["bench/#"]
  inputs: [{name: history, kind: window, last: 30}]
  params: {threshold: 4, min_samples: 10}
  outputs: [{kind: decision, onlyAnomalies: true}]
  scaling: {min: 2, max: 2}
)";

constexpr const char* kOnnxFunction = R"(apiVersion: sie/v1
kind: Function
metadata: {name: zs}
spec:
  runtime: onnx
  handler: @MODEL@
  triggers: ["bench/#"]
  inputs: [{name: vibration, kind: window, last: 1}]
  outputs: [{kind: decision, onlyAnomalies: true}]
  scaling: {min: 2, max: 2}
@BATCH@)";

std::string onnxFunction(bool batch) {
  std::string text = kOnnxFunction;
  text.replace(text.find("@MODEL@"), 7, std::string(SIE_SOURCE_DIR) + "/models/pump-health.onnx");
  text.replace(text.find("@BATCH@"), 7, batch ? "  batch: {maxSize: 64}\n" : "");
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  const double rate = argc > 1 ? std::atof(argv[1]) : 100000;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 10;
  const int sensors = argc > 3 ? std::atoi(argv[3]) : 1000;
  const std::string function = argc > 4 ? argv[4] : "zscore";
  if (function != "zscore" && function != "onnx" && function != "onnx-batch") {
    return std::fprintf(stderr, "function must be zscore, onnx or onnx-batch\n"), 2;
  }
  const bool onnx = function != "zscore";
  spdlog::set_level(spdlog::level::warn);
  const std::string dir = std::filesystem::temp_directory_path() / ("sie-bench-" + std::to_string(getpid()));

  const std::string manifest = onnx ? onnxFunction(function == "onnx-batch") : kFunction;
  auto site = sie::node::parseSite({"bench/site.yaml", kSite}, {{"bench/functions/zs.yaml", manifest}});
  if (!site) return std::fprintf(stderr, "%s\n", site.error().str().c_str()), 1;
  site->data_dir = dir;
  sie::Plugins plugins;
  if (!sie::registerBuiltinPlugins(plugins)) return 1;
  auto node = sie::node::Node::create(std::move(*site), plugins);
  if (!node) return std::fprintf(stderr, "%s\n", node.error().str().c_str()), 1;
  if (!(*node)->start()) return 1;

  std::vector<sie::Symbol> ids;
  for (int i = 0; i < sensors; ++i) ids.push_back(sie::Symbol::intern("bench/s" + std::to_string(i)));
  std::vector<double> block(256);
  for (std::size_t i = 0; i < block.size(); ++i) block[i] = 0.3 * std::sin(0.0785 * static_cast<double>(i));
  const auto total = static_cast<std::int64_t>(rate * seconds);
  const auto begin = std::chrono::steady_clock::now();
  const std::int64_t base_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::int64_t refused = 0;
  for (std::int64_t n = 0; n < total; ++n) {
    // Paced: event n is due at n / rate seconds after begin.
    const auto due = begin + std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(n) * 1e9 / rate));
    // Sleep rather than spin while ahead, so the load generator leaves the cores to the node.
    if (std::chrono::steady_clock::now() < due) std::this_thread::sleep_until(due);
    const std::int64_t round = n / sensors;
    // Blocks of one sensor follow each other without overlap.
    const std::int64_t step = onnx ? 256 * 500'000 : 1000;
    sie::Telemetry reading{ids[n % sensors], base_ns + round * step, {20.0 + static_cast<double>(n % 7) * 0.1}};
    if (onnx) {  // a vibration block: 256 samples at 2 kHz
      reading.values = block;
      reading.values[static_cast<std::size_t>(n % 256)] += 0.01;
      reading.sample_period_ns = 500'000;
    }
    if (!(*node)->ingest().ingest(std::move(reading), "bench")) ++refused;
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  (*node)->stop();
  const sie::Histogram& h = sie::metrics().histogram("sie_event_to_action_seconds", "", {{"function", "zs@1"}});
  std::printf("events %lld in %.2f s (%.0f/s offered, %lld refused)\n", static_cast<long long>(total), elapsed,
              static_cast<double>(total) / elapsed, static_cast<long long>(refused));
  std::printf("event->action latency: p50 %.1f us  p99 %.1f us  p99.9 %.1f us  (n=%llu)\n",
              h.quantile(0.5) * 1e6, h.quantile(0.99) * 1e6, h.quantile(0.999) * 1e6,
              static_cast<unsigned long long>(h.count()));
  const sie::Labels fn{{"function", "zs@1"}};
  const sie::Histogram& wait = sie::metrics().histogram("sie_queue_wait_seconds", "", fn);
  const sie::Histogram& run = sie::metrics().histogram("sie_function_duration_seconds", "", fn);
  std::printf("  of which queue wait: p50 %.1f us  p99 %.1f us; function run: p50 %.1f us  p99 %.1f us\n",
              wait.quantile(0.5) * 1e6, wait.quantile(0.99) * 1e6, run.quantile(0.5) * 1e6,
              run.quantile(0.99) * 1e6);
  const sie::Histogram& gw = sie::metrics().histogram("sie_gateway_stage_seconds", "", {{"stage", "pipeline"}});
  std::printf("  gateway (validate, record, filter, route, enqueue): p50 %.1f us  p99 %.1f us\n",
              gw.quantile(0.5) * 1e6, gw.quantile(0.99) * 1e6);
  std::filesystem::remove_all(dir);
  return 0;
}
