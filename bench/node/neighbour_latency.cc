// A function's latency beside a hostile one: an in-process node runs `good` (lambda-echo, the C++
// keep-alive Lambda client, two instances) at RATE events/s for SECONDS, alone and then beside a
// Python worker that, on each of its own events (HOSTILE_RATE/s), spins until its deadline kills
// it, forks without end, or allocates until its memory limit stops it. Prints good's
// event->action p50 / p99 and the hostile function's failures per mode; the hostile worker's
// timeouts, kills and replacements are the runtime's containment at work.
//   bench_neighbour [rate=1000] [seconds=5] [hostile_rate=20] [modes=none,spin,fork,memory]
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "node/node.h"
#include "sie/metrics.h"
#include "sie/plugins.h"

namespace {

namespace fs = std::filesystem;

constexpr const char* kSite = R"(apiVersion: sie/v1
kind: Site
metadata: {name: bench-neighbour}
spec:
  http: ""
  summaryInterval: 0
  dispatcher: {queueCapacity: 100000, overload: block, workers: 8}
)";

std::string goodManifest(const std::string& run) {
  return fmt::format(R"(apiVersion: sie/v1
kind: Function
metadata: {{name: good-{}, version: "1"}}
spec:
  runtime: process
  handler: {}/lambda-echo
  triggers: ["good/#"]
  timeout: 2s
  scaling: {{min: 2, max: 2}}
  process: {{protocol: lambda, memory: 64Mi}}
)",
                     run, SIE_BENCH_PROCESS_DIR);
}

// What the hostile worker does with each event.
std::string hostileBody(const std::string& mode) {
  if (mode == "spin") return "    while True:\n        pass\n";
  if (mode == "fork") return "    while True:\n        os.fork()\n";
  return "    hog = []\n    while True:\n        hog.append(bytearray(8 << 20))\n";  // memory
}

std::string hostileManifest(const std::string& run, const std::string& script) {
  return fmt::format(R"(apiVersion: sie/v1
kind: Function
metadata: {{name: hostile-{}, version: "1"}}
spec:
  runtime: process
  handler: {}
  triggers: ["hostile/#"]
  timeout: 200ms
  retries: 0
  scaling: {{min: 1, max: 2}}
  process: {{protocol: native, memory: 128Mi, read: ["{}/sdk/python"]}}
)",
                     run, script, SIE_SOURCE_DIR);
}

}  // namespace

int main(int argc, char** argv) {
  const double rate = argc > 1 ? std::atof(argv[1]) : 1000;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 5;
  const double hostile_rate = argc > 3 ? std::atof(argv[3]) : 20;
  std::vector<std::string> modes;
  std::stringstream list(argc > 4 ? argv[4] : "none,spin,fork,memory");
  for (std::string m; std::getline(list, m, ',');) modes.push_back(m);
  spdlog::set_level(spdlog::level::off);  // the hostile workers fail on every event

  const fs::path dir =
      fs::temp_directory_path() / ("sie-bench-neighbour-" + std::to_string(getpid()));
  fs::create_directories(dir);
  // Workers run as users of their own: they must reach the scripts.
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  std::printf(
      "good: lambda-echo x2 at %g/s for %g s; hostile: python at %g/s, timeout 200 ms, "
      "memory 128 MiB, processes 1\n",
      rate, seconds, hostile_rate);
  std::printf("%-8s %12s %12s %10s %16s %12s\n", "hostile", "good p50 ms", "good p99 ms",
              "good done", "hostile failed", "restarts");
  for (const std::string& mode : modes) {
    std::vector<sie::node::SourceText> functions{
        {(dir / "functions" / "good.yaml").string(), goodManifest(mode)}};
    if (mode != "none") {
      const fs::path script = dir / (mode + ".py");
      std::ofstream(script) << "#!/usr/bin/python3\nimport os, sys\nsys.path.insert(0, '"
                            << SIE_SOURCE_DIR << "/sdk/python')\nimport sie_worker\n"
                            << "def handle(inv):\n"
                            << hostileBody(mode) << "sie_worker.serve(handle)\n";
      fs::permissions(script, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
      functions.push_back(
          {(dir / "functions" / "hostile.yaml").string(), hostileManifest(mode, script.string())});
    }
    auto site = sie::node::parseSite({(dir / "site.yaml").string(), kSite}, functions);
    if (!site) return std::fprintf(stderr, "%s\n", site.error().str().c_str()), 1;
    site->data_dir = (dir / ("data-" + mode)).string();
    sie::Plugins plugins;
    if (!sie::registerBuiltinPlugins(plugins)) return 1;
    auto node = sie::node::Node::create(std::move(*site), plugins);
    if (!node) return std::fprintf(stderr, "%s\n", node.error().str().c_str()), 1;
    if (auto started = (*node)->start(); !started) {
      return std::fprintf(stderr, "%s\n", started.error().str().c_str()), 1;
    }

    std::vector<sie::Symbol> good;
    for (int i = 0; i < 64; ++i) good.push_back(sie::Symbol::intern(fmt::format("good/p{}", i)));
    const sie::Symbol hostile = sie::Symbol::intern("hostile/p0");
    const auto begin = std::chrono::steady_clock::now();
    const std::int64_t base_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
    const auto total = static_cast<std::int64_t>(rate * seconds);
    const auto every = static_cast<std::int64_t>(rate / hostile_rate);
    for (std::int64_t n = 0; n < total; ++n) {
      std::this_thread::sleep_until(begin + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                                static_cast<double>(n) * 1e9 / rate)));
      (*node)->ingest().ingest(
          sie::Telemetry{good[static_cast<std::size_t>(n % 64)], base_ns + n * 1000, {20.0}},
          "bench");
      if (mode != "none" && every > 0 && n % every == 0) {
        (*node)->ingest().ingest(sie::Telemetry{hostile, base_ns + n * 1000, {1.0}}, "bench");
      }
    }
    (*node)->stop();
    sie::MetricsRegistry& m = sie::metrics();
    const sie::Histogram& h =
        m.histogram("sie_event_to_action_seconds", "", {{"function", "good-" + mode + "@1"}});
    const sie::Labels bad{{"function", "hostile-" + mode + "@1"}};
    const auto failed = m.counter("sie_function_errors_total", "", bad).value();
    const auto starts = m.counter("sie_instance_starts_total", "", bad).value();
    std::printf("%-8s %12.2f %12.2f %10llu %16llu %12llu\n", mode.c_str(), h.quantile(0.5) * 1e3,
                h.quantile(0.99) * 1e3, static_cast<unsigned long long>(h.count()),
                static_cast<unsigned long long>(failed), static_cast<unsigned long long>(starts));
  }
  fs::remove_all(dir);
  return 0;
}
