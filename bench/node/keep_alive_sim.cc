// keep_alive_sim: replays synthetic arrival traces through a real InstancePool on a virtual
// clock and compares keep-alive policies by cold-start rate and idle instance-time — the
// comparison of Shahrad et al. (ATC 2020), on sie's own pool and policy code.
//
//   bench_keep_alive [hours=24] [seed=1]
//
// Workloads (one function, invocations of 100 ms, the pool ticked every second):
//   periodic  every 5 min +- 5 s (a cron-like report or a polled device)
//   bursty    bursts of 5-30 events 1 s apart, separated by exponential gaps (mean 8 min,
//             at most 40 min)
//   random    Poisson arrivals, mean gap 2 min
// Policies: fixed keep-alive of 10 min and of 1 min (scaling.idleTimeout, min 0), and the
// learned hybrid histogram (scaling.prewarm, idleTimeout 10 min until it has learned).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "runtime/instance_pool.h"
#include "sie/metrics.h"

namespace {

using namespace std::chrono_literals;
using sie::FunctionSpec;

class VirtualClock final : public sie::Clock {
 public:
  [[nodiscard]] std::int64_t nowNs() const override { return now; }
  [[nodiscard]] std::int64_t monotonicNs() const override { return now; }
  std::int64_t now = 1'000'000'000;
};

class NullExecutor final : public sie::Executor {
 public:
  [[nodiscard]] std::string_view name() const override { return "null"; }
  sie::Status validate(const FunctionSpec&) const override { return sie::ok(); }
  sie::Result<std::unique_ptr<sie::FunctionInstance>> instantiate(const FunctionSpec&) override {
    class Instance final : public sie::FunctionInstance {
     public:
      sie::Result<sie::Output> invoke(const sie::Invocation&) override { return sie::Output{}; }
    };
    return std::make_unique<Instance>();
  }
};

using Trace = std::vector<std::int64_t>;  // arrival times, ns from the start

Trace periodic(double hours, std::mt19937_64& rng) {
  Trace t;
  std::uniform_real_distribution<double> jitter(-5, 5);
  for (double s = 60; s < hours * 3600; s += 300)
    t.push_back(static_cast<std::int64_t>((s + jitter(rng)) * 1e9));
  return t;
}

Trace bursty(double hours, std::mt19937_64& rng) {
  Trace t;
  std::exponential_distribution<double> gap(1.0 / 480);
  std::uniform_int_distribution<int> size(5, 30);
  for (double s = 60; s < hours * 3600;) {
    const int n = size(rng);
    for (int i = 0; i < n; ++i) t.push_back(static_cast<std::int64_t>((s + i) * 1e9));
    s += n + std::min(gap(rng), 2400.0);
  }
  return t;
}

Trace poisson(double hours, std::mt19937_64& rng) {
  Trace t;
  std::exponential_distribution<double> gap(1.0 / 120);
  for (double s = 60 + gap(rng); s < hours * 3600; s += gap(rng)) {
    t.push_back(static_cast<std::int64_t>(s * 1e9));
  }
  return t;
}

struct Outcome {
  std::size_t invocations = 0;
  std::uint64_t cold = 0;
  double idle_s = 0;
};

Outcome replay(const Trace& trace, const std::string& name, std::chrono::milliseconds keep_alive,
               bool prewarm) {
  FunctionSpec spec;
  spec.name = name;
  spec.version = "1";
  spec.scaling.min = 0;
  spec.scaling.max = 4;
  spec.scaling.idle_timeout = keep_alive;
  spec.scaling.prewarm = prewarm;
  VirtualClock clock;
  const std::int64_t start = clock.now;
  sie::node::InstancePool pool(std::make_shared<NullExecutor>(), spec, clock);
  std::size_t next = 0;
  const std::int64_t end = trace.empty() ? 0 : trace.back() + 3600'000'000'000;
  for (std::int64_t t = 0; t <= end; t += 1'000'000'000) {  // one-second ticks
    while (next < trace.size() && trace[next] < t + 1'000'000'000) {
      clock.now = start + trace[next];
      {
        auto lease = pool.acquire();
        clock.now += 100'000'000;  // the invocation runs 100 ms
      }
      ++next;
    }
    clock.now = std::max<std::int64_t>(clock.now, start + t + 1'000'000'000);
    pool.tick(0);
  }
  pool.drain();
  auto& m = sie::metrics();
  const sie::Labels labels{{"function", spec.id()}};
  return {
      trace.size(), m.counter("sie_cold_starts_total", "", labels).value(),
      static_cast<double>(m.counter("sie_instance_idle_milliseconds_total", "", labels).value()) /
          1e3};
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // thousands of instance starts
  const double hours = argc > 1 ? std::atof(argv[1]) : 24;
  const auto seed = static_cast<std::uint64_t>(argc > 2 ? std::atoll(argv[2]) : 1);
  struct Workload {
    const char* name;
    Trace (*make)(double, std::mt19937_64&);
  };
  const Workload workloads[] = {{"periodic", periodic}, {"bursty", bursty}, {"random", poisson}};
  struct Policy {
    const char* name;
    std::chrono::milliseconds keep_alive;
    bool prewarm;
  };
  const Policy policies[] = {{"fixed 10 min", 10min, false},
                             {"fixed 1 min", 1min, false},
                             {"hybrid histogram", 10min, true}};
  std::printf("%-9s %-17s %11s %12s %18s\n", "workload", "policy", "invocations", "cold starts",
              "idle instance-s");
  for (const Workload& w : workloads) {
    std::mt19937_64 rng(seed);
    const Trace trace = w.make(hours, rng);
    for (const Policy& p : policies) {
      const Outcome o = replay(trace, std::string(w.name) + "-" + std::to_string(&p - policies),
                               p.keep_alive, p.prewarm);
      std::printf("%-9s %-17s %11zu %5llu (%4.1f%%) %18.0f\n", w.name, p.name, o.invocations,
                  static_cast<unsigned long long>(o.cold),
                  100.0 * static_cast<double>(o.cold) / static_cast<double>(o.invocations),
                  o.idle_s);
    }
  }
  return 0;
}
