// MQTT load generator for the in -> function -> out benchmarks: publishes JSON readings to
// bench/in/s<i> at a paced rate (each carries "t0", the steady-clock send time in ns) and
// subscribes to bench/out/#, where the system under test answers; it reports the answers'
// latency (p50/p99/p99.9, send to receive) and the loss.
//
//   mqtt_loadgen PORT QOS RATE SECONDS [SENSORS]
#include <mosquitto.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::int64_t steadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Results {
  std::vector<std::int64_t> latencies;  // written by the subscriber's network thread only
  std::atomic<std::int64_t> received{0};
  std::atomic<bool> subscribed{false};
};

void onMessage(mosquitto* /*m*/, void* obj, const mosquitto_message* msg) {
  auto* results = static_cast<Results*>(obj);
  const std::int64_t now = steadyNs();
  std::string payload(static_cast<const char*>(msg->payload),
                      static_cast<std::size_t>(msg->payloadlen));
  // sie carries t0 as a tag ("t0":"123"); the baseline echoes it as a number.
  const auto at = payload.find("\"t0\":");
  if (at == std::string::npos) return;
  std::size_t digits = at + 5;
  if (digits < payload.size() && payload[digits] == '"') ++digits;
  results->latencies.push_back(now - std::strtoll(payload.c_str() + digits, nullptr, 10));
  results->received.fetch_add(1, std::memory_order_relaxed);
}

double quantile(std::vector<std::int64_t>& v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: mqtt_loadgen PORT QOS RATE SECONDS [SENSORS]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int qos = std::atoi(argv[2]);
  const double rate = std::atof(argv[3]);
  const double seconds = std::atof(argv[4]);
  const int sensors = argc > 5 ? std::atoi(argv[5]) : 100;
  mosquitto_lib_init();

  Results results;
  results.latencies.reserve(static_cast<std::size_t>(rate * seconds) + 16);
  mosquitto* sub = mosquitto_new(nullptr, true, &results);
  mosquitto_int_option(sub, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_message_callback_set(sub, onMessage);
  mosquitto_subscribe_callback_set(sub, [](mosquitto*, void* obj, int, int, const int*) {
    static_cast<Results*>(obj)->subscribed = true;
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
  while (!results.subscribed) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  const auto total = static_cast<std::int64_t>(rate * seconds);
  const auto begin = std::chrono::steady_clock::now();
  const std::int64_t wall0 = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  char topic[64];
  char payload[160];
  for (std::int64_t n = 0; n < total; ++n) {
    const auto due = begin + std::chrono::nanoseconds(
                                 static_cast<std::int64_t>(static_cast<double>(n) * 1e9 / rate));
    if (std::chrono::steady_clock::now() < due) std::this_thread::sleep_until(due);
    std::snprintf(topic, sizeof topic, "bench/in/s%d", static_cast<int>(n % sensors));
    const int len =
        std::snprintf(payload, sizeof payload, R"({"ts":%lld,"value":%.1f,"t0":%lld})",
                      static_cast<long long>(wall0 + n * 1000), 20.0 + static_cast<double>(n % 100),
                      static_cast<long long>(steadyNs()));
    mosquitto_publish(pub, nullptr, topic, len, payload, qos, false);
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  // Stragglers: wait until the answers stop coming (at most 5 s).
  std::int64_t seen = -1;
  for (int i = 0; i < 50 && results.received.load() != seen; ++i) {
    seen = results.received.load();
    if (seen >= total) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  mosquitto_disconnect(pub);
  mosquitto_disconnect(sub);
  mosquitto_loop_stop(pub, false);
  mosquitto_loop_stop(sub, false);
  const std::int64_t got = results.received.load();
  std::printf(
      "qos %d rate %.0f/s offered %.0f/s sent %lld received %lld loss %.3f%% "
      "p50 %.0f us p99 %.0f us p99.9 %.0f us\n",
      qos, rate, static_cast<double>(total) / elapsed, static_cast<long long>(total),
      static_cast<long long>(got),
      100.0 * static_cast<double>(total - std::min(got, total)) / static_cast<double>(total),
      quantile(results.latencies, 0.5), quantile(results.latencies, 0.99),
      quantile(results.latencies, 0.999));
  mosquitto_destroy(pub);
  mosquitto_destroy(sub);
  mosquitto_lib_cleanup();
  return 0;
}
