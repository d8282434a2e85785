// sie-fieldsim: a field-device stand-in driven by the plant simulator, for the MQTT + Modbus
// example site and its tests. It plays
//   - a pump station PLC on Modbus TCP (libmodbus server, unit 1):
//       holding 0-1  tank level, m (float32, high word first)
//       holding 2-3  tank inflow, m3/h (float32) — the simulator's water/district1 flow
//       holding 4    pump bearing temperature, 0.1 degC (int16)
//       coil 0       pump running (1) or stopped (0); writable
//       discrete 0   high-level alarm (level above 4.5 m)
//       input 0      seconds since start (uint16)
//   - a vibration sensor gateway on MQTT: the simulator's pump1 vibration blocks and bearing
//     temperature as JSON on plant/rotating/pump1/{vibration,bearing_temp}, with a "seq".
// A stopped pump stops vibrating and stops draining the tank, so an actuation shows in the data.
#include <signal.h>
#include <sys/select.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <modbus.h>
#include <mosquitto.h>
#include <CLI/CLI.hpp>

#include "adapters/sim/simulator.h"

namespace {

std::atomic<bool> g_stop{false};

constexpr double kTankAreaM2 = 20.0;
constexpr double kPumpOutflowM3h = 150.0;
constexpr double kHighLevelM = 4.5;

struct Station {
  std::mutex mu;
  modbus_mapping_t* map = nullptr;
  double level_m = 3.0;
};

// float32, high word first (ABCD), written by hand: modbus_set_float_abcd in libmodbus 3.1.6
// swaps the bytes.
void setFloat(modbus_mapping_t* map, int address, double value) {
  const auto bits = std::bit_cast<std::uint32_t>(static_cast<float>(value));
  map->tab_registers[address] = static_cast<std::uint16_t>(bits >> 16);
  map->tab_registers[address + 1] = static_cast<std::uint16_t>(bits & 0xFFFF);
}

// Serves Modbus TCP clients until g_stop.
void serveModbus(modbus_t* ctx, int listener, Station& station) {
  fd_set all;
  FD_ZERO(&all);
  FD_SET(listener, &all);
  int max_fd = listener;
  std::vector<std::uint8_t> query(MODBUS_TCP_MAX_ADU_LENGTH);
  while (!g_stop) {
    fd_set ready = all;
    timeval tick{0, 100'000};
    if (select(max_fd + 1, &ready, nullptr, nullptr, &tick) <= 0) continue;
    for (int fd = 0; fd <= max_fd; ++fd) {
      if (!FD_ISSET(fd, &ready)) continue;
      if (fd == listener) {
        int client = listener;
        const int accepted = modbus_tcp_accept(ctx, &client);
        if (accepted >= 0) {
          FD_SET(accepted, &all);
          max_fd = std::max(max_fd, accepted);
        }
        continue;
      }
      modbus_set_socket(ctx, fd);
      const int n = modbus_receive(ctx, query.data());
      if (n > 0) {
        std::lock_guard lock(station.mu);
        modbus_reply(ctx, query.data(), n, station.map);
      } else if (n == -1) {
        close(fd);
        FD_CLR(fd, &all);
      }
    }
  }
}

std::string blockJson(const sie::Telemetry& r, std::uint64_t seq) {
  std::string out = fmt::format(R"({{"ts":{},"seq":{})", r.ts_ns, seq);
  if (r.values.size() == 1) return out + fmt::format(R"(,"value":{:.4f}}})", r.values[0]);
  out += fmt::format(R"(,"period_ns":{},"values":[)", r.sample_period_ns);
  for (std::size_t i = 0; i < r.values.size(); ++i)
    out += fmt::format("{}{:.5f}", i ? "," : "", r.values[i]);
  return out + "]}";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Field-device stand-in: a Modbus pump station and an MQTT vibration gateway"};
  std::string modbus_at = "127.0.0.1:1502";
  std::string mqtt_host = "127.0.0.1";
  int mqtt_port = 1883;
  std::uint64_t seed = 42;
  double speed = 1.0;
  double duration = 0;
  double fault_rate = 0;
  app.add_option("--modbus", modbus_at, "Modbus TCP listen address HOST:PORT")
      ->capture_default_str();
  app.add_option("--mqtt-host", mqtt_host, "MQTT broker host")->capture_default_str();
  app.add_option("--mqtt-port", mqtt_port, "MQTT broker port (0: no MQTT)")->capture_default_str();
  app.add_option("--seed", seed, "simulator seed")->capture_default_str();
  app.add_option("--speed", speed, "simulated seconds per second")->capture_default_str();
  app.add_option("--fault-rate", fault_rate, "injected faults per asset per hour")
      ->capture_default_str();
  app.add_option("--duration", duration, "stop after this many seconds (0: until SIGINT/SIGTERM)");
  CLI11_PARSE(app, argc, argv);

  signal(SIGINT, [](int) { g_stop = true; });
  signal(SIGTERM, [](int) { g_stop = true; });
  signal(SIGPIPE, SIG_IGN);

  const auto colon = modbus_at.rfind(':');
  if (colon == std::string::npos) return std::fprintf(stderr, "--modbus must be HOST:PORT\n"), 2;
  const std::string host = modbus_at.substr(0, colon);
  const int port = std::atoi(modbus_at.c_str() + colon + 1);
  modbus_t* ctx = modbus_new_tcp(host.c_str(), port);
  const int listener = ctx ? modbus_tcp_listen(ctx, 8) : -1;
  if (listener < 0) {
    std::fprintf(stderr, "cannot listen on %s: %s\n", modbus_at.c_str(), modbus_strerror(errno));
    return 1;
  }
  Station station;
  station.map = modbus_mapping_new(8, 8, 16, 8);
  station.map->tab_bits[0] = 1;  // the pump runs

  mosquitto* mqtt = nullptr;
  if (mqtt_port > 0) {
    mosquitto_lib_init();
    mqtt = mosquitto_new(fmt::format("sie-fieldsim-{}", getpid()).c_str(), true, nullptr);
    mosquitto_int_option(mqtt, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_reconnect_delay_set(mqtt, 1, 10, true);
    mosquitto_connect_async(mqtt, mqtt_host.c_str(), mqtt_port, 30);
    mosquitto_loop_start(mqtt);
  }

  std::thread server([&] { serveModbus(ctx, listener, station); });
  sie::sim::SimOptions options;
  options.seed = seed;
  options.domains = {"rotating", "water"};
  options.faults_per_asset_hour = fault_rate;
  options.start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  sie::sim::Simulator sim(options);
  std::vector<sie::Telemetry> readings;
  std::uint64_t seq = 0;
  double inflow = 0;
  const auto begin = std::chrono::steady_clock::now();
  auto last = begin;
  auto last_reconnect = begin;
  std::printf("fieldsim: Modbus on %s, MQTT %s\n", modbus_at.c_str(),
              mqtt ? fmt::format("to {}:{}", mqtt_host, mqtt_port).c_str() : "off");
  std::fflush(stdout);
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - begin).count();
    if (duration > 0 && elapsed >= duration) break;
    const double dt_s = std::chrono::duration<double>(now - last).count() * speed;
    last = now;
    readings.clear();
    sim.advance(options.start_ns + static_cast<std::int64_t>(elapsed * speed * 1e9), readings);
    std::lock_guard lock(station.mu);
    const bool running = station.map->tab_bits[0] != 0;
    for (auto& r : readings) {
      const std::string_view id = r.sensor.str();
      if (id == "water/district1/flow") inflow = r.value();
      if (id == "rotating/pump1/bearing_temp") {
        station.map->tab_registers[4] =
            static_cast<std::uint16_t>(static_cast<std::int16_t>(std::lround(r.value() * 10)));
      }
      if (!mqtt || !id.starts_with("rotating/pump1/")) continue;
      if (!running && id.ends_with("vibration")) {
        for (double& v : r.values) v *= 0.02;  // a stopped pump barely vibrates
      }
      const std::string payload = blockJson(r, ++seq);
      const std::string topic = fmt::format("plant/{}", id);
      if (mosquitto_publish(mqtt, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                            payload.data(), 0, false) == MOSQ_ERR_NO_CONN &&
          now - last_reconnect > std::chrono::seconds(1)) {
        // The broker was not up yet (or went away): the first async connect is not retried.
        last_reconnect = now;
        mosquitto_reconnect_async(mqtt);
      }
    }
    station.level_m += (inflow - (running ? kPumpOutflowM3h : 0.0)) / kTankAreaM2 * dt_s / 3600.0;
    station.level_m = std::clamp(station.level_m, 0.0, 6.0);
    setFloat(station.map, 0, station.level_m);
    setFloat(station.map, 2, inflow);
    station.map->tab_input_bits[0] = station.level_m > kHighLevelM ? 1 : 0;
    station.map->tab_input_registers[0] =
        static_cast<std::uint16_t>(static_cast<int>(elapsed) & 0xFFFF);
  }
  g_stop = true;
  server.join();
  if (mqtt) {
    mosquitto_disconnect(mqtt);
    mosquitto_loop_stop(mqtt, false);
    mosquitto_destroy(mqtt);
    mosquitto_lib_cleanup();
  }
  close(listener);
  modbus_mapping_free(station.map);
  modbus_free(ctx);
  return 0;
}
