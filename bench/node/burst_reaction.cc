// Reaction to a burst: an in-process node with a process function whose instances each serve a
// bounded rate (lambda-echo, the C++ keep-alive Lambda client, sleeping ECHO_DELAY_US per event),
// fed BASE events/s, then FACTOR times that. Every 10 ms it samples the live instances, the
// queue and the event->action latency of the events finished in the interval, and reports
//   - when the first extra instance is live, and when the pool has what the burst needs
//     (ceil(burst rate x delay), targetConcurrency 1);
//   - when latency recovers: the first interval, once the pool has what the burst needs, whose
//     mean is back under twice the base load's mean, and how many later intervals were not (a
//     shared machine's noise shows there);
//   - the worst queue and interval latency on the way, and failed or dead-lettered events.
// Events come from SENSORS sensors in turn (the events of one sensor run in order, one at a time).
//   bench_burst [base_rate=200] [factor=10] [delay_us=2000] [base_s=3] [burst_s=5] [max=16]
//               [sensors=100]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "node/node.h"
#include "sie/metrics.h"
#include "sie/plugins.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kSite = R"(apiVersion: sie/v1
kind: Site
metadata: {name: bench-burst}
spec:
  http: ""
  summaryInterval: 0
  dispatcher: {queueCapacity: 100000, overload: block, workers: 32}
)";

std::string manifest(int delay_us, int max) {
  return fmt::format(R"(apiVersion: sie/v1
kind: Function
metadata: {{name: burst, version: "1"}}
spec:
  runtime: process
  handler: {}/lambda-echo
  triggers: ["bench/#"]
  timeout: 2s
  scaling: {{min: 1, max: {}, targetConcurrency: 1, idleTimeout: 60s, prewarm: false}}
  process: {{protocol: lambda, memory: 64Mi, env: {{ECHO_DELAY_US: "{}"}}}}
)",
                     SIE_BENCH_PROCESS_DIR, max, delay_us);
}

struct Sample {
  double t = 0;  // seconds since the burst began (negative before)
  int live = 0;
  double queued = 0;
  std::uint64_t done = 0;  // events finished so far
  double latency_sum = 0;  // their event->action seconds, summed
};

}  // namespace

int main(int argc, char** argv) {
  const double base_rate = argc > 1 ? std::atof(argv[1]) : 200;
  const double factor = argc > 2 ? std::atof(argv[2]) : 10;
  const int delay_us = argc > 3 ? std::atoi(argv[3]) : 2000;
  const double base_s = argc > 4 ? std::atof(argv[4]) : 3;
  const double burst_s = argc > 5 ? std::atof(argv[5]) : 5;
  const int max = argc > 6 ? std::atoi(argv[6]) : 16;
  const int sensors = argc > 7 ? std::atoi(argv[7]) : 100;
  spdlog::set_level(spdlog::level::warn);
  const std::string dir =
      std::filesystem::temp_directory_path() / ("sie-bench-burst-" + std::to_string(getpid()));

  auto site = sie::node::parseSite({"bench/site.yaml", kSite},
                                   {{"bench/functions/burst.yaml", manifest(delay_us, max)}});
  if (!site) return std::fprintf(stderr, "%s\n", site.error().str().c_str()), 1;
  site->data_dir = dir;
  sie::Plugins plugins;
  if (!sie::registerBuiltinPlugins(plugins)) return 1;
  auto node = sie::node::Node::create(std::move(*site), plugins);
  if (!node) return std::fprintf(stderr, "%s\n", node.error().str().c_str()), 1;
  if (auto started = (*node)->start(); !started) {
    return std::fprintf(stderr, "%s\n", started.error().str().c_str()), 1;
  }

  sie::MetricsRegistry& m = sie::metrics();
  const sie::Labels id{{"function", "burst@1"}};
  const sie::Gauge& live = m.gauge("sie_instances", "", id);
  const sie::Gauge& depth = m.gauge("sie_queue_depth", "", {{"function", "burst"}});
  const sie::Histogram& latency = m.histogram("sie_event_to_action_seconds", "", id);
  const sie::Counter& errors = m.counter("sie_function_errors_total", "", id);
  const sie::Counter& cold = m.counter("sie_cold_starts_total", "", id);

  const auto begin = Clock::now();
  const auto burst_at =
      begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(base_s));
  const auto end = burst_at + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(burst_s));
  std::vector<Sample> samples;
  std::atomic<bool> running{true};
  std::thread sampler([&] {
    for (auto next = begin; running.load(); next += std::chrono::milliseconds(10)) {
      std::this_thread::sleep_until(next);
      samples.push_back({std::chrono::duration<double>(Clock::now() - burst_at).count(),
                         static_cast<int>(live.value()), depth.value(), latency.count(),
                         latency.sum()});
    }
  });

  std::vector<sie::Symbol> ids;
  for (int i = 0; i < sensors; ++i) ids.push_back(sie::Symbol::intern(fmt::format("bench/p{}", i)));
  const std::int64_t base_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
  std::int64_t sent = 0;
  std::int64_t refused = 0;
  double due_s = 0;  // when the next event is due, in seconds after begin
  for (;;) {
    const auto due =
        begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(due_s));
    if (due >= end) break;
    std::this_thread::sleep_until(due);
    sie::Telemetry reading{
        ids[static_cast<std::size_t>(sent % sensors)], base_ns + sent * 1000, {20.0}};
    if (!(*node)->ingest().ingest(std::move(reading), "bench")) ++refused;
    ++sent;
    due_s += 1.0 / (due < burst_at ? base_rate : base_rate * factor);
  }
  // Let the queue drain, then stop sampling.
  for (int i = 0; i < 500 && latency.count() + errors.value() < static_cast<std::uint64_t>(sent);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  running = false;
  sampler.join();
  (*node)->stop();

  // Interval means of event->action latency, from the cumulative count and sum.
  const auto mean = [&](std::size_t i) -> std::optional<double> {
    if (i == 0 || samples[i].done == samples[i - 1].done) return std::nullopt;
    return (samples[i].latency_sum - samples[i - 1].latency_sum) /
           static_cast<double>(samples[i].done - samples[i - 1].done);
  };
  double base_sum = 0;
  std::uint64_t base_n = 0;
  int base_live = 0;
  for (std::size_t i = 1; i < samples.size() && samples[i].t < 0; ++i) {
    if (samples[i].t < -base_s / 2) continue;  // the second half of the base load: steady
    base_sum += samples[i].latency_sum - samples[i - 1].latency_sum;
    base_n += samples[i].done - samples[i - 1].done;
    base_live = std::max(base_live, samples[i].live);
  }
  const double base_mean = base_n > 0 ? base_sum / static_cast<double>(base_n) : 0;
  const int needed = static_cast<int>(std::ceil(base_rate * factor * delay_us / 1e6 - 1e-9));
  std::optional<double> first_extra, capacity, recovered;
  double worst_queue = 0;
  double worst_mean = 0;
  int intervals = 0;
  int slow_after = 0;  // intervals over 2x the base mean after recovery
  for (std::size_t i = 1; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    if (s.t < 0 || s.t > burst_s) continue;
    if (!first_extra && s.live > base_live) first_extra = s.t;
    if (!capacity && s.live >= std::min(needed, max)) capacity = s.t;
    worst_queue = std::max(worst_queue, s.queued);
    const auto interval = mean(i);
    if (!interval) continue;
    ++intervals;
    worst_mean = std::max(worst_mean, *interval);
    const bool fast = *interval <= 2 * base_mean;
    if (!recovered && capacity && fast) recovered = s.t;
    if (recovered && !fast) ++slow_after;
  }

  const auto ms = [](const std::optional<double>& t) {
    return t ? fmt::format("{:.0f} ms", *t * 1000) : std::string("never");
  };
  std::printf("burst %g/s -> %g/s (x%g), %d us of work per event, %lld events, %lld refused\n",
              base_rate, base_rate * factor, factor, delay_us, static_cast<long long>(sent),
              static_cast<long long>(refused));
  std::printf("base: %d instance(s) live, event->action mean %.2f ms\n", base_live,
              base_mean * 1e3);
  std::printf("burst needs %d instances: first extra live after %s, %d live after %s\n", needed,
              ms(first_extra).c_str(), std::min(needed, max), ms(capacity).c_str());
  std::printf(
      "latency recovered (interval mean <= 2x base) after %s, %d of %d later intervals "
      "over; worst interval mean %.1f ms, worst queue %.0f events\n",
      ms(recovered).c_str(), slow_after, intervals, worst_mean * 1e3, worst_queue);
  std::printf("done %llu of %lld, failed %llu, cold starts %llu, p99 over the run %.1f ms\n",
              static_cast<unsigned long long>(latency.count()), static_cast<long long>(sent),
              static_cast<unsigned long long>(errors.value()),
              static_cast<unsigned long long>(cold.value()), latency.quantile(0.99) * 1e3);
  std::filesystem::remove_all(dir);
  return 0;
}
