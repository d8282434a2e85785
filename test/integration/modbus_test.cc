// The Modbus source and write sink against a real libmodbus TCP server.
#include <sys/wait.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <modbus.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "modbus_server.h"
#include "node/node.h"
#include "servers.h"
#include "sie/metrics.h"
#include "sie/plugins.h"
#include "test_node.h"

namespace sie {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::ModbusServer;
using ::testing::StartsWith;
using testing::TempDir;
using testing::waitUntil;

class ModbusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    ASSERT_TRUE(registerBuiltinPlugins(plugins_));
  }
  void TearDown() override {
    if (node_) node_->stop();
  }

  Result<std::unique_ptr<node::Node>> makeNode(const std::string& sources,
                                               const std::string& sinks) {
    return testing::makeNode(testing::siteWith(sources, sinks), {}, data_.path(), plugins_);
  }
  void startNode(const std::string& sources, const std::string& sinks = "") {
    auto made = makeNode(sources, sinks);
    ASSERT_TRUE(made) << made.error().str();
    node_ = std::move(*made);
    ASSERT_TRUE(node_->start());
  }

  std::vector<Sample> readings(std::string_view sensor) {
    auto got = node_->state().timeSeries().range(Symbol::intern(sensor), 0,
                                                 std::numeric_limits<std::int64_t>::max(), 100000);
    return got ? *got : std::vector<Sample>{};
  }
  std::uint64_t counter(std::string_view name, const Labels& labels) {
    return metrics().counter(name, "", labels).value();
  }

  // A decision like Actions publishes, straight onto the bus.
  void decide(bool anomaly) {
    Event event;
    event.id = "d-test";
    event.type = "io.sie.decision";
    event.subject = "rotating/pump1/vibration";
    event.data = fmt::format(R"({{"function":"pump-guard","anomaly":{},"score":1}})", anomaly);
    node_->bus().publish("decisions/pump-guard/rotating/pump1/vibration", event);
  }

  ModbusServer device_;
  TempDir data_;
  Plugins plugins_;
  std::unique_ptr<node::Node> node_;
};

TEST_F(ModbusTest, PollsEveryTableAndTypeWithScaleAndUnit) {
  device_.with([](modbus_mapping_t& m) {
    m.tab_registers[0] = 0xFF38;  // int16 -200
    const auto bits = std::bit_cast<std::uint32_t>(12.25F);
    m.tab_registers[1] = static_cast<std::uint16_t>(bits >> 16);  // float32, high word first
    m.tab_registers[2] = static_cast<std::uint16_t>(bits);
    m.tab_registers[3] = 0x0002;  // uint32 0x00010002, low word first
    m.tab_registers[4] = 0x0001;
    m.tab_input_registers[5] = 0x3412;  // uint16 0x1234 with its bytes swapped
    m.tab_bits[2] = 1;
    m.tab_input_bits[3] = 1;
  });
  startNode(fmt::format(R"(    - name: plc
      type: modbus
      port: {}
      pollInterval: 50ms
      points:
        - {{sensor: t/temp, address: 0, dataType: int16, scale: 0.1, unit: degC}}
        - {{sensor: t/level, address: 1, dataType: float32}}
        - {{sensor: t/count, address: 3, dataType: uint32, wordOrder: little}}
        - {{sensor: t/input, table: input, address: 5, byteOrder: little}}
        - {{sensor: t/coil, table: coil, address: 2}}
        - {{sensor: t/alarm, table: discrete, address: 3, interval: 20ms}}
)",
                        device_.port()));
  ASSERT_TRUE(
      waitUntil([&] { return readings("t/alarm").size() >= 3 && readings("t/temp").size() >= 1; }));
  EXPECT_DOUBLE_EQ(readings("t/temp").front().values[0], -20.0);
  EXPECT_DOUBLE_EQ(readings("t/level").front().values[0], 12.25);
  EXPECT_DOUBLE_EQ(readings("t/count").front().values[0], 65538);
  EXPECT_DOUBLE_EQ(readings("t/input").front().values[0], 0x1234);
  EXPECT_DOUBLE_EQ(readings("t/coil").front().values[0], 1);
  EXPECT_DOUBLE_EQ(readings("t/alarm").front().values[0], 1);
  EXPECT_EQ(readings("t/temp").front().quality, Quality::kGood);
  // A value that changes on the device shows up at the next poll.
  device_.with([](modbus_mapping_t& m) { m.tab_registers[0] = 250; });
  ASSERT_TRUE(waitUntil([&] { return readings("t/temp").back().values[0] == 25.0; }));
}

TEST_F(ModbusTest, ContiguousPointsOfATableAreReadInOneRequest) {
  device_.with([](modbus_mapping_t& m) {
    m.tab_registers[0] = 7;
    const auto bits = std::bit_cast<std::uint32_t>(1.5F);
    m.tab_registers[1] = static_cast<std::uint16_t>(bits >> 16);
    m.tab_registers[2] = static_cast<std::uint16_t>(bits);
    m.tab_registers[3] = 9;
    m.tab_registers[10] = 11;
    m.tab_bits[4] = 1;
  });
  // One poll (the next is a minute away): registers 0..3 in one request, 10 in another (a gap),
  // coils 4..5 in a third.
  startNode(fmt::format(R"(    - name: blocks
      type: modbus
      port: {}
      pollInterval: 60s
      points:
        - {{sensor: b/a, address: 0}}
        - {{sensor: b/level, address: 1, dataType: float32}}
        - {{sensor: b/c, address: 3}}
        - {{sensor: b/far, address: 10}}
        - {{sensor: b/on, table: coil, address: 4}}
        - {{sensor: b/off, table: coil, address: 5}}
)",
                        device_.port()));
  ASSERT_TRUE(waitUntil([&] {
    for (const char* s : {"b/a", "b/level", "b/c", "b/far", "b/on", "b/off"}) {
      if (readings(s).empty()) return false;
    }
    return true;
  }));
  EXPECT_EQ(device_.requestsReceived(), 3);
  EXPECT_DOUBLE_EQ(readings("b/a").front().values[0], 7);
  EXPECT_DOUBLE_EQ(readings("b/level").front().values[0], 1.5);
  EXPECT_DOUBLE_EQ(readings("b/c").front().values[0], 9);
  EXPECT_DOUBLE_EQ(readings("b/far").front().values[0], 11);
  EXPECT_DOUBLE_EQ(readings("b/on").front().values[0], 1);
  EXPECT_DOUBLE_EQ(readings("b/off").front().values[0], 0);
}

// A device no one here wrote: npm modbus-serial's ServerTCP (installed by the test command into
// test/thirdparty). Registers 0..3 hold 100..103, 10..11 a float32 of 21.5, coil 0 is on.
TEST_F(ModbusTest, AThirdPartyDeviceIsPolled) {
  const std::string folder = SIE_SOURCE_DIR "/test/thirdparty";
  ASSERT_TRUE(std::filesystem::exists(folder + "/node_modules/modbus-serial"))
      << "modbus-serial is not installed: npm ci --prefix " << folder;
  const int port = testing::freePort();
  const pid_t device =
      testing::spawnServer({"node", folder + "/modbus_device.js", std::to_string(port)});
  ASSERT_GT(device, 0);
  const auto stop = [device] {
    ::kill(device, SIGTERM);
    ::waitpid(device, nullptr, 0);
  };
  if (!testing::waitForPort(port)) {
    stop();
    FAIL() << "the modbus-serial device did not listen on " << port;
  }
  startNode(fmt::format(R"(    - name: thirdparty
      type: modbus
      port: {}
      pollInterval: 100ms
      points:
        - {{sensor: m/r0, address: 0}}
        - {{sensor: m/r3, address: 3}}
        - {{sensor: m/temp, address: 10, dataType: float32}}
        - {{sensor: m/on, table: coil, address: 0}}
)",
                        port));
  const bool polled = waitUntil([&] {
    for (const char* sensor : {"m/r0", "m/r3", "m/temp", "m/on"}) {
      if (readings(sensor).empty()) return false;
    }
    return true;
  });
  stop();
  ASSERT_TRUE(polled);
  EXPECT_DOUBLE_EQ(readings("m/r0").front().values[0], 100);
  EXPECT_DOUBLE_EQ(readings("m/r3").front().values[0], 103);
  EXPECT_DOUBLE_EQ(readings("m/temp").front().values[0], 21.5);
  EXPECT_DOUBLE_EQ(readings("m/on").front().values[0], 1);
  EXPECT_EQ(readings("m/r0").front().quality, Quality::kGood);
}

TEST_F(ModbusTest, ABlockTheDeviceRefusesIsReadPointByPoint) {
  device_.with([](modbus_mapping_t& m) { m.tab_registers[63] = 5; });
  // Registers 63 and 64 are contiguous, but the device maps 0..63: the block is refused, and
  // 63 is still read on its own.
  startNode(fmt::format(R"(    - name: edge
      type: modbus
      port: {}
      pollInterval: 20ms
      points:
        - {{sensor: x/last, address: 63}}
        - {{sensor: x/past, address: 64}}
)",
                        device_.port()));
  const Labels exceptions{{"source", "edge"}, {"kind", "exception"}};
  ASSERT_TRUE(waitUntil([&] {
    return readings("x/last").size() >= 3 && counter("sie_modbus_errors_total", exceptions) >= 3;
  }));
  EXPECT_DOUBLE_EQ(readings("x/last").front().values[0], 5);
  // The refused point turns bad once, with the device's exception as the reason, and no value.
  const auto past = readings("x/past");
  ASSERT_EQ(past.size(), 1U);
  EXPECT_EQ(past.front().quality, Quality::kBad);
  EXPECT_TRUE(std::isnan(past.front().values[0]));
  ASSERT_NE(past.front().flag, nullptr);
  EXPECT_THAT(*past.front().flag, HasSubstr("exception 2 (Illegal data address)"));
  EXPECT_EQ(device_.connectionsAccepted(), 1);
}

TEST_F(ModbusTest, ExceptionResponsesAreCountedAndPollingGoesOn) {
  startNode(fmt::format(R"(    - name: exc
      type: modbus
      port: {}
      pollInterval: 20ms
      points:
        - {{sensor: e/missing, address: 5000}}
        - {{sensor: e/ok, address: 0}}
)",
                        device_.port()));
  const Labels exceptions{{"source", "exc"}, {"kind", "exception"}};
  ASSERT_TRUE(waitUntil([&] {
    return counter("sie_modbus_errors_total", exceptions) >= 3 && readings("e/ok").size() >= 3;
  }));
  // One bad reading with the exception, however many polls it answered.
  const auto missing = readings("e/missing");
  ASSERT_EQ(missing.size(), 1U);
  EXPECT_EQ(missing.front().quality, Quality::kBad);
  ASSERT_NE(missing.front().flag, nullptr);
  EXPECT_THAT(*missing.front().flag, HasSubstr("exception 2"));
  EXPECT_EQ(metrics().gauge("sie_modbus_device_up", "", {{"source", "exc"}}).value(), 1);
  EXPECT_EQ(device_.connectionsAccepted(), 1);  // an exception is no reason to reconnect
}

TEST_F(ModbusTest, DeadDeviceIsMarkedStaleRetriedWithBackoffAndResumed) {
  device_.with([](modbus_mapping_t& m) { m.tab_registers[0] = 7; });
  startNode(fmt::format(R"(    - name: dying
      type: modbus
      port: {}
      pollInterval: 20ms
      timeout: 200ms
      reconnectMin: 50ms
      reconnectMax: 400ms
      points:
        - {{sensor: d/value, address: 0}}
)",
                        device_.port()));
  ASSERT_TRUE(waitUntil([&] { return readings("d/value").size() >= 3; }));
  device_.stop();
  ASSERT_TRUE(waitUntil([&] { return readings("d/value").back().quality == Quality::kBad; }));
  const Sample stale = readings("d/value").back();
  const std::size_t marked = readings("d/value").size();
  EXPECT_EQ(stale.values[0], 7);  // the last value, marked
  EXPECT_EQ(metrics().gauge("sie_modbus_device_up", "", {{"source", "dying"}}).value(), 0);
  // Down for 1.5 s: with backoff up to 400 ms that is a handful of attempts, not hundreds.
  // (A deliberate wait: the test counts what happens in a span of time.)
  const Labels no_answer{{"source", "dying"}, {"kind", "no_answer"}};
  const auto before = counter("sie_modbus_errors_total", no_answer);
  std::this_thread::sleep_for(1500ms);
  const auto attempts = counter("sie_modbus_errors_total", no_answer) - before;
  EXPECT_GE(attempts, 2U);
  EXPECT_LE(attempts, 40U);
  EXPECT_EQ(readings("d/value").size(), marked);  // one stale mark only, however many attempts
  device_.start();
  ASSERT_TRUE(waitUntil([&] { return readings("d/value").size() >= marked + 3; }));
  EXPECT_EQ(readings("d/value").back().quality, Quality::kGood);
}

// good -> stale -> good as a client of the node sees it: GET /api/v1/events shows the stale mark,
// with its reason, as soon as the first poll fails, and the next value is good again.
TEST_F(ModbusTest, QualityTransitionsShowInTheReadingsApi) {
  device_.with([](modbus_mapping_t& m) { m.tab_registers[0] = 9; });
  std::string site = testing::siteWith(fmt::format(R"(    - name: api
      type: modbus
      port: {}
      pollInterval: 50ms
      timeout: 200ms
      reconnectMin: 50ms
      reconnectMax: 200ms
      points:
        - {{sensor: q/level, address: 0}}
)",
                                                   device_.port()),
                                       "");
  site.replace(site.find("http: \"\""), 8, "http: 127.0.0.1:0");
  auto made = testing::makeNode(site, {}, data_.path(), plugins_);
  ASSERT_TRUE(made) << made.error().str();
  node_ = std::move(*made);
  ASSERT_TRUE(node_->start());
  const auto newest = [&] {  // the newest reading, as the API returns it
    const auto body =
        nlohmann::json::parse(testing::capture(fmt::format(
                                  "curl -s {} 'http://127.0.0.1:{}/api/v1/events?sensor=q/level'",
                                  testing::adminAuth(data_.path()), node_->httpPort())),
                              nullptr, false);
    return body.is_object() && body.contains("readings") && !body["readings"].empty()
               ? body["readings"].back()
               : nlohmann::json();
  };
  ASSERT_TRUE(waitUntil([&] { return newest().value("quality", "") == "good"; }));
  device_.stop();
  nlohmann::json stale;
  ASSERT_TRUE(waitUntil([&] {
    stale = newest();
    return stale.value("quality", "") == "bad";
  }));
  EXPECT_EQ(stale.value("value", 0.0), 9);
  EXPECT_THAT(stale.value("flag", ""), StartsWith("stale: "));
  // The mark follows the last good reading by at most a poll and its timeout (with slack for a
  // loaded machine), not by a backoff or a reconnect.
  const auto samples = readings("q/level");
  ASSERT_GE(samples.size(), 2U);
  EXPECT_LE(samples.back().ts_ns - samples[samples.size() - 2].ts_ns,
            std::chrono::nanoseconds(50ms + 200ms + 1s).count());
  device_.start();
  ASSERT_TRUE(waitUntil([&] {
    const auto back = newest();
    return back.value("quality", "") == "good" && !back.contains("flag");
  }));
}

TEST_F(ModbusTest, SilentDeviceTimesOutAndIsMarkedStale) {
  startNode(fmt::format(R"(    - name: hung
      type: modbus
      port: {}
      pollInterval: 20ms
      timeout: 100ms
      points:
        - {{sensor: h/value, address: 0}}
)",
                        device_.port()));
  ASSERT_TRUE(waitUntil([&] { return readings("h/value").size() >= 2; }));
  device_.setSilent(true);
  ASSERT_TRUE(waitUntil([&] { return readings("h/value").back().quality == Quality::kBad; }));
  device_.setSilent(false);
  ASSERT_TRUE(waitUntil([&] { return readings("h/value").back().quality == Quality::kGood; }));
}

TEST_F(ModbusTest, DecisionsWriteAndVerifyAndAreAudited) {
  device_.with([](modbus_mapping_t& m) { m.tab_bits[0] = 1; });
  startNode("", fmt::format(R"(    - name: stop-pump
      type: modbus
      port: {0}
      subscribe: ["decisions/pump-guard/#"]
      table: coil
      address: 0
      value: 0
      minInterval: 0s
    - name: setpoint
      type: modbus
      port: {0}
      when: normal
      address: 10
      dataType: float32
      value: 42.5
)",
                            device_.port()));
  decide(true);
  ASSERT_TRUE(waitUntil([&] {
    return counter("sie_modbus_writes_total", {{"sink", "stop-pump"}}) == 1;
  }));
  device_.with([](modbus_mapping_t& m) { EXPECT_EQ(m.tab_bits[0], 0); });
  EXPECT_EQ(counter("sie_modbus_writes_total", {{"sink", "setpoint"}}), 0U);  // not on anomalies
  decide(false);
  ASSERT_TRUE(waitUntil([&] {
    return counter("sie_modbus_writes_total", {{"sink", "setpoint"}}) == 1;
  }));
  device_.with([](modbus_mapping_t& m) {
    const std::uint32_t bits =
        (static_cast<std::uint32_t>(m.tab_registers[10]) << 16) | m.tab_registers[11];
    EXPECT_EQ(std::bit_cast<float>(bits), 42.5F);  // high word first
  });
  // The audit records are committed with the next batch, a moment after the writes counted.
  std::vector<std::string> actions;
  EXPECT_TRUE(waitUntil([&] {
    actions.clear();
    auto audit = node_->state().audit().tail(10);
    if (!audit) return false;
    for (const auto& record : *audit) {
      if (record.kind == "action") actions.push_back(record.body);
    }
    return actions.size() == 2;
  })) << actions.size()
      << " action records";
  for (const auto& body : actions) EXPECT_THAT(body, HasSubstr("written and verified"));
}

TEST_F(ModbusTest, FailedOrUnverifiedWritesAreDeadLettered) {
  startNode("", fmt::format(R"(    - name: stop-pump
      type: modbus
      port: {}
      timeout: 100ms
      retries: 1
      table: coil
      address: 0
      value: 1
      minInterval: 0s
)",
                            device_.port()));
  device_.setIgnoreWrites(true);
  decide(true);
  ASSERT_TRUE(waitUntil([&] {
    return counter("sie_modbus_write_failures_total", {{"sink", "stop-pump"}}) == 1;
  }));
  device_.setIgnoreWrites(false);
  device_.stop();
  decide(true);
  ASSERT_TRUE(waitUntil([&] {
    return counter("sie_modbus_write_failures_total", {{"sink", "stop-pump"}}) == 2;
  }));
  // The sink counts a failure before it stores the letter.
  ASSERT_TRUE(waitUntil([&] { return node_->state().deadLetters().count().value_or(0) == 2; }));
  auto letters = node_->state().deadLetters().list(10);
  ASSERT_TRUE(letters);
  ASSERT_EQ(letters->size(), 2U);
  EXPECT_EQ((*letters)[1].origin, "sink:stop-pump");
  EXPECT_THAT((*letters)[1].reason, HasSubstr("read back 0 after writing 1"));
  EXPECT_THAT((*letters)[0].reason, HasSubstr("cannot connect"));
  EXPECT_THAT((*letters)[0].payload, HasSubstr("pump-guard"));
}

TEST_F(ModbusTest, ConfigErrorsNameTheProblem) {
  auto made = makeNode(
      "    - {name: x, type: modbus, points: [{sensor: a, address: 1, table: holdings}]}\n", "");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("coil, discrete, holding or input"));
  made = makeNode("    - {name: x, type: modbus, points: [{address: 1}]}\n", "");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("missing required key 'points[].sensor'"));
  made = makeNode("", "    - {name: y, type: modbus, table: input, address: 1, value: 1}\n");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("cannot be written"));
  made = makeNode("", "    - {name: y, type: modbus, table: coil, address: 1, value: 3}\n");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("0 or 1"));
}

}  // namespace
}  // namespace sie
