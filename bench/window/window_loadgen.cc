// Load generator for the windowed-function benchmark: SENSORS sensors publish JSON readings
// {"ts","value","t0"} to bench/in/s<i> at a paced total RATE (sensor n % SENSORS sends reading n;
// "ts" is a unique timestamp per reading, "t0" the steady-clock send time); it subscribes to
// bench/out/#, where the system under test answers with a decision carrying the reading's ts_ns
// and its score (or the label "warming-up" while unscored), and checks every decision against a
// reference computed here, independently: |z| of the value against the sensor's previous WINDOW
// readings (sample standard deviation, unscored below 10). It reports loss, wrong and duplicated
// decisions, latency (send → decision received, p50/p99/p99.9), and, from /proc, the CPU time the
// system under test (PID) spent per reading and its peak resident memory.
//
//   window_loadgen PORT QOS RATE SECONDS PID [SENSORS=100] [WINDOW=64]
#include <mosquitto.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kMinSamples = 10;

std::int64_t steadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Reading n's value: a slow wave per sensor, deterministic noise, and a spike now and then.
double valueOf(std::int64_t n, int sensors) {
  std::uint64_t h = static_cast<std::uint64_t>(n) * 0x9E3779B97F4A7C15ULL;  // splitmix64
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
  h ^= h >> 31;
  const double noise = static_cast<double>(h % 20001) / 10000.0 - 1.0;  // [-1, 1]
  const auto seq = static_cast<double>(n / sensors);
  const double spike = h % 997 == 0 ? 25.0 : 0.0;
  return 50.0 + 5.0 * std::sin(seq * 0.05 + static_cast<double>(n % sensors)) + noise + spike;
}

// The reference: reading n's |z| against its sensor's previous `window` readings.
std::optional<double> referenceScore(std::int64_t n, int sensors, int window) {
  const std::int64_t held = std::min<std::int64_t>(window, n / sensors);
  if (held < kMinSamples) return std::nullopt;
  double sum = 0.0;
  for (std::int64_t k = 1; k <= held; ++k) sum += valueOf(n - k * sensors, sensors);
  const double mean = sum / static_cast<double>(held);
  double squares = 0.0;
  for (std::int64_t k = 1; k <= held; ++k) {
    const double d = valueOf(n - k * sensors, sensors) - mean;
    squares += d * d;
  }
  const double std_dev = std::max(std::sqrt(squares / static_cast<double>(held - 1)), 1e-9);
  return std::abs((valueOf(n, sensors) - mean) / std_dev);
}

struct Run {
  int sensors = 100;
  int window = 64;
  std::int64_t total = 0;
  std::int64_t ts0 = 0;                   // reading n has ts = ts0 + n * 1000
  std::vector<std::int64_t> latencies;    // written by the subscriber's network thread only
  std::vector<std::uint8_t> seen;         // decisions per reading, the same thread
  std::atomic<std::int64_t> received{0};  // distinct readings answered
  std::int64_t wrong = 0;
  std::int64_t duplicates = 0;
  std::int64_t unknown = 0;  // answers that name no reading of this run
  std::string first_wrong;
  std::atomic<bool> subscribed{false};
};

// The number after "key": in `json` (quoted or not), or nullopt; `is_null` says it was null.
std::optional<double> numberAfter(const std::string& json, const char* key, bool& is_null) {
  const auto at = json.find(key);
  if (at == std::string::npos) return std::nullopt;
  std::size_t i = at + std::strlen(key);
  if (i < json.size() && json[i] == '"') ++i;
  is_null = json.compare(i, 4, "null") == 0;
  if (is_null) return std::nan("");
  char* end = nullptr;
  const double v = std::strtod(json.c_str() + i, &end);
  if (end == json.c_str() + i) return std::nullopt;
  return v;
}

void onMessage(mosquitto* /*m*/, void* obj, const mosquitto_message* msg) {
  auto* run = static_cast<Run*>(obj);
  const std::int64_t now = steadyNs();
  const std::string payload(static_cast<const char*>(msg->payload),
                            static_cast<std::size_t>(msg->payloadlen));
  bool null_score = false;
  // ts_ns and t0 are integers above 2^53: read them as integers, not through a double.
  const auto ts_at = payload.find("\"ts_ns\":");
  const auto t0_at = payload.find("\"t0\":");
  const auto score = numberAfter(payload, "\"score\":", null_score);
  if (ts_at == std::string::npos || t0_at == std::string::npos || !score) {
    ++run->unknown;
    return;
  }
  std::size_t t0_digits = t0_at + 5;
  if (t0_digits < payload.size() && payload[t0_digits] == '"') ++t0_digits;
  const std::int64_t ts = std::strtoll(payload.c_str() + ts_at + 8, nullptr, 10);
  const std::int64_t t0 = std::strtoll(payload.c_str() + t0_digits, nullptr, 10);
  const std::int64_t n = (ts - run->ts0) / 1000;
  if (ts < run->ts0 || (ts - run->ts0) % 1000 != 0 || n >= run->total) {
    ++run->unknown;
    return;
  }
  if (run->seen[static_cast<std::size_t>(n)]++ > 0) {
    ++run->duplicates;
    return;
  }
  run->latencies.push_back(now - t0);
  run->received.fetch_add(1, std::memory_order_relaxed);
  const auto expected = referenceScore(n, run->sensors, run->window);
  const bool unscored = null_score || payload.find(R"("label":"warming-up")") != std::string::npos;
  const bool right = !expected ? unscored
                               : !unscored && std::abs(*score - *expected) <=
                                                  1e-6 * std::max(1.0, std::abs(*expected));
  if (!right) {
    if (run->wrong++ == 0) {
      run->first_wrong = "reading " + std::to_string(n) + ": expected " +
                         (expected ? std::to_string(*expected) : "null") + ", got " + payload;
    }
  }
}

double quantileUs(std::vector<std::int64_t>& v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

// utime + stime of a process, in seconds.
double cpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A field of /proc/PID/status in kB (VmHWM: the peak resident set, file-backed pages of the
// program and its libraries included; RssAnon: the process's own memory now), in MB.
double statusMb(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::strtod(line.c_str() + field.size() + 1, nullptr) / 1024.0;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: window_loadgen PORT QOS RATE SECONDS PID [SENSORS] [WINDOW]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int qos = std::atoi(argv[2]);
  const double rate = std::atof(argv[3]);
  const double seconds = std::atof(argv[4]);
  const int pid = std::atoi(argv[5]);
  Run run;
  run.sensors = argc > 6 ? std::atoi(argv[6]) : 100;
  run.window = argc > 7 ? std::atoi(argv[7]) : 64;
  run.total = static_cast<std::int64_t>(rate * seconds);
  run.latencies.reserve(static_cast<std::size_t>(run.total) + 16);
  run.seen.assign(static_cast<std::size_t>(run.total), 0);
  run.ts0 = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  mosquitto_lib_init();

  mosquitto* sub = mosquitto_new(nullptr, true, &run);
  mosquitto_int_option(sub, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_message_callback_set(sub, onMessage);
  mosquitto_subscribe_callback_set(sub, [](mosquitto*, void* obj, int, int, const int*) {
    static_cast<Run*>(obj)->subscribed = true;
  });
  mosquitto* pub = mosquitto_new(nullptr, true, nullptr);
  mosquitto_int_option(pub, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_max_inflight_messages_set(pub, 0);
  if (mosquitto_connect(sub, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
      mosquitto_connect(pub, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) {
    std::fprintf(stderr, "cannot connect to 127.0.0.1:%d\n", port);
    return 1;
  }
  mosquitto_loop_start(sub);
  mosquitto_loop_start(pub);
  mosquitto_subscribe(sub, nullptr, "bench/out/#", qos);
  while (!run.subscribed) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  // The kernel keeps no peak of anonymous memory: sample it while the run lasts.
  std::atomic<bool> sampling{true};
  std::atomic<double> anon_peak_mb{0};
  std::thread sampler([&] {
    while (sampling) {
      anon_peak_mb = std::max(anon_peak_mb.load(), statusMb(pid, "RssAnon"));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const double cpu0 = cpuSeconds(pid);
  const auto begin = std::chrono::steady_clock::now();
  char topic[64];
  char payload[160];
  for (std::int64_t n = 0; n < run.total; ++n) {
    const auto due = begin + std::chrono::nanoseconds(
                                 static_cast<std::int64_t>(static_cast<double>(n) * 1e9 / rate));
    if (std::chrono::steady_clock::now() < due) std::this_thread::sleep_until(due);
    std::snprintf(topic, sizeof topic, "bench/in/s%d", static_cast<int>(n % run.sensors));
    const int len = std::snprintf(payload, sizeof payload, R"({"ts":%lld,"value":%.17g,"t0":%lld})",
                                  static_cast<long long>(run.ts0 + n * 1000),
                                  valueOf(n, run.sensors), static_cast<long long>(steadyNs()));
    mosquitto_publish(pub, nullptr, topic, len, payload, qos, false);
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  // Stragglers: wait until the answers stop coming (at most 5 s).
  std::int64_t answered = -1;
  for (int i = 0; i < 50 && run.received.load() != answered; ++i) {
    answered = run.received.load();
    if (answered >= run.total) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double cpu = cpuSeconds(pid) - cpu0;
  sampling = false;
  sampler.join();
  mosquitto_disconnect(pub);
  mosquitto_disconnect(sub);
  mosquitto_loop_stop(pub, false);
  mosquitto_loop_stop(sub, false);
  const std::int64_t got = run.received.load();
  std::printf(
      "qos %d rate %.0f/s offered %.0f/s sent %lld received %lld loss %.3f%% wrong %lld dup %lld "
      "p50 %.0f us p99 %.0f us p99.9 %.0f us cpu %.1f us/msg rss %.1f MB anon %.1f MB\n",
      qos, rate, static_cast<double>(run.total) / elapsed, static_cast<long long>(run.total),
      static_cast<long long>(got),
      100.0 * static_cast<double>(run.total - std::min(got, run.total)) /
          static_cast<double>(run.total),
      static_cast<long long>(run.wrong), static_cast<long long>(run.duplicates),
      quantileUs(run.latencies, 0.5), quantileUs(run.latencies, 0.99),
      quantileUs(run.latencies, 0.999), 1e6 * cpu / static_cast<double>(run.total),
      statusMb(pid, "VmHWM"), anon_peak_mb.load());
  if (run.wrong > 0) std::fprintf(stderr, "first wrong decision: %s\n", run.first_wrong.c_str());
  if (run.unknown > 0) {
    std::fprintf(stderr, "%lld answers named no reading of this run\n",
                 static_cast<long long>(run.unknown));
  }
  mosquitto_destroy(pub);
  mosquitto_destroy(sub);
  mosquitto_lib_cleanup();
  return run.wrong > 0 ? 3 : 0;
}
