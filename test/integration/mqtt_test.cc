// The MQTT source and sink against a real mosquitto broker, driven by the real mosquitto_pub and
// mosquitto_sub clients.
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "node/node.h"
#include "privacy/pseudonymizer.h"
#include "servers.h"
#include "sie/metrics.h"
#include "sie/plugins.h"
#include "sparkplug_b.pb.h"
#include "test_node.h"

namespace sie {
namespace {

using testing::capture;
using ::testing::HasSubstr;
using testing::Mosquitto;
using testing::run;
using testing::TempDir;
using testing::waitUntil;

constexpr const char* kFunction = R"(apiVersion: sie/v1
kind: Function
metadata: {name: hot, version: "1"}
spec:
  runtime: builtin
  handler: threshold
  triggers: ["+/+/temp"]
  params: {max: 80}
)";

// Lines of JSON telemetry for `mosquitto_pub -l`: values 60 + seq, source timestamps, and a seq
// (milliseconds, printed with %.0f: mawk clamps %d to 32 bits).
std::string telemetryLines(int first, int last) {
  return fmt::format(
      "seq {} {} | awk '{{printf \"{{\\\"value\\\": %d, \\\"ts_ms\\\": %.0f, \\\"seq\\\": "
      "%d}}\\n\", "
      "60 + $1, 1700000000000 + $1, $1}}'",
      first, last);
}

class MqttTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    ASSERT_TRUE(registerBuiltinPlugins(plugins_));
  }
  void TearDown() override {
    if (node_) node_->stop();
  }

  // A node whose sources and sinks are the YAML list items given (indented for spec).
  Result<std::unique_ptr<node::Node>> makeNode(const std::string& sources,
                                               const std::string& sinks) {
    return testing::makeNode(testing::siteWith(sources, sinks),
                             {{"t/functions/hot.yaml", kFunction}}, data_.path(), plugins_);
  }

  void startNode(const std::string& sources, const std::string& sinks = "") {
    auto made = makeNode(sources, sinks);
    ASSERT_TRUE(made) << made.error().str();
    node_ = std::move(*made);
    ASSERT_TRUE(node_->start());
  }

  std::string sourceBlock(const std::string& extra = "", int port = 0) const {
    return fmt::format(R"(    - name: field
      type: mqtt
      port: {}
      clientId: sie-test-field
      cleanSession: false
      topics: ["plant/{{line}}/{{asset}}/{{signal}}"]
      sensor: "{{line}}/{{asset}}/{{signal}}"
      carry: [seq]
{})",
                       port ? port : broker_.port(), extra);
  }

  std::string sinkBlock(const std::string& extra = "") const {
    return fmt::format(R"(    - name: out
      type: mqtt
      port: {}
      topic: "sie/{{line}}/{{asset}}/decision"
{})",
                       broker_.port(), extra);
  }

  std::size_t readings(std::string_view sensor) {
    auto got = node_->state().timeSeries().range(Symbol::intern(sensor), 0,
                                                 std::numeric_limits<std::int64_t>::max(), 1000000);
    return got ? got->size() : 0;
  }

  std::vector<DeadLetter> deadLetters() {
    auto got = node_->state().deadLetters().list(1000);
    return got ? *got : std::vector<DeadLetter>{};
  }

  // Registers a persistent QoS 1 subscriber session, so nothing published later is missed.
  void subscribe(const std::string& id, const std::string& topic) {
    ASSERT_EQ(
        run(fmt::format("mosquitto_sub -p {} -c -i {} -q 1 -t '{}' -E", broker_.port(), id, topic)),
        0);
  }
  // Collects `count` messages of that session ("topic payload" lines).
  // `format` is mosquitto_sub's -F (e.g. "%t %x" for binary payloads in hex).
  std::vector<std::string> collect(const std::string& id, const std::string& topic, int count,
                                   const std::string& format = "%t %p") {
    const std::string out =
        capture(fmt::format("mosquitto_sub -p {} -c -i {} -q 1 -t '{}' -F '{}' -C {} -W 20",
                            broker_.port(), id, topic, format, count));
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < out.size()) {
      const std::size_t end = out.find('\n', start);
      lines.push_back(out.substr(start, end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return lines;
  }

  // What the node has, for failure messages.
  std::string describe() {
    std::string out = "dead letters:";
    for (const auto& letter : deadLetters()) {
      out += fmt::format("\n  [{}] {}: {}", letter.origin, letter.subject, letter.reason);
    }
    return out;
  }

  int publish(const std::string& args) {
    return run(fmt::format("mosquitto_pub -p {} {}", broker_.port(), args));
  }

  // Publishes a probe on `topic` until `arrived` holds. The broker acknowledges the node's
  // subscriptions out of the test's sight: one is in place once a message published after it
  // arrives.
  bool probeUntil(const std::string& topic, const std::function<bool()>& arrived) {
    return waitUntil([&] {
      publish(fmt::format("-q 1 -t {} -m 0", topic));
      return arrived();
    });
  }
  // Waits until the Sparkplug source `source` takes frames: probes on a STATE topic, which the
  // source counts and otherwise ignores.
  bool sparkplugSubscribed(const std::string& source) {
    const auto frames = [&] {
      return metrics().counter("sie_sparkplug_frames_total", "", {{"source", source}}).value();
    };
    const auto before = frames();
    return probeUntil("spBv1.0/plant/STATE/probe", [&] { return frames() > before; });
  }

  Mosquitto broker_{true};
  TempDir data_;
  Plugins plugins_;
  std::unique_ptr<node::Node> node_;
};

TEST_F(MqttTest, Qos1ReadingsBecomeDecisionsMatchedBySequence) {
  startNode(sourceBlock(), sinkBlock());
  subscribe("checker", "sie/+/+/decision");
  ASSERT_TRUE(waitUntil([&] { return metrics().counterTotal("sie_mqtt_connects_total") >= 2; }));
  ASSERT_EQ(run(telemetryLines(1, 50) +
                fmt::format(" | mosquitto_pub -p {} -q 1 -l -t plant/l1/p7/temp", broker_.port())),
            0);
  ASSERT_TRUE(waitUntil([&] { return readings("l1/p7/temp") == 50; })) << readings("l1/p7/temp");

  const auto lines = collect("checker", "sie/+/+/decision", 50);
  ASSERT_EQ(lines.size(), 50U);
  std::set<int> seen;
  for (const auto& line : lines) {
    ASSERT_THAT(line, ::testing::StartsWith("sie/l1/p7/decision {"));
    const auto decision = nlohmann::json::parse(line.substr(line.find(' ') + 1));
    const int seq = std::stoi(decision["tags"]["seq"].get<std::string>());
    EXPECT_TRUE(seen.insert(seq).second) << "seq " << seq << " twice";
    EXPECT_EQ(decision["value"].get<double>(), 60 + seq);
    EXPECT_EQ(decision["anomaly"].get<bool>(), 60 + seq > 80) << line;
    EXPECT_EQ(decision["tags"]["asset"], "p7");
  }
  EXPECT_EQ(seen.size(), 50U);
  EXPECT_TRUE(deadLetters().empty());
}

TEST_F(MqttTest, PlainNumbersCborAndBadPayloads) {
  startNode(sourceBlock());
  ASSERT_TRUE(waitUntil([&] { return metrics().counterTotal("sie_mqtt_connects_total") >= 1; }));
  ASSERT_EQ(publish("-q 1 -t plant/l2/p1/temp -m 42.5"), 0);
  ASSERT_EQ(publish("-q 1 -t plant/l2/p1/temp -m '{\"value\":'"), 0);
  ASSERT_EQ(publish("-q 1 -t plant/l2/p1/temp -m '{\"value\":\"hot\",\"ts\":1}'"), 0);
  ASSERT_EQ(publish("-q 1 -t plant/l2/p1/temp -n"), 0);
  // A CBOR map {"value": 7, "ts": 5} written byte by byte (octal: dash printf has no \\x).
  ASSERT_EQ(run(fmt::format("printf '\\242\\145value\\007\\142ts\\005' | mosquitto_pub -p {} -q 1 "
                            "-t plant/l2/p2/temp -s",
                            broker_.port())),
            0);
  ASSERT_TRUE(waitUntil([&] { return deadLetters().size() == 3 && readings("l2/p2/temp") == 1; }))
      << describe();
  EXPECT_EQ(readings("l2/p1/temp"), 1U);  // the plain number
  std::set<std::string> reasons;
  for (const auto& letter : deadLetters()) {
    EXPECT_EQ(letter.origin, "gateway");
    EXPECT_EQ(letter.subject, "l2/p1/temp");
    reasons.insert(letter.reason);
  }
  EXPECT_TRUE(std::any_of(reasons.begin(), reasons.end(), [](const auto& r) {
    return r.find("not valid JSON") != std::string::npos;
  }));
  EXPECT_TRUE(std::any_of(reasons.begin(), reasons.end(), [](const auto& r) {
    return r.find("'value' must be a number") != std::string::npos;
  }));
  EXPECT_TRUE(std::any_of(reasons.begin(), reasons.end(), [](const auto& r) {
    return r.find("payload is empty") != std::string::npos;
  }));
}

TEST_F(MqttTest, TlsAndClientCertificates) {
  const auto& certs = broker_.certs();
  startNode(fmt::format(R"(    - name: tls
      type: mqtt
      port: {}
      caFile: {}
      topics: ["tls/#"]
    - name: mtls
      type: mqtt
      port: {}
      caFile: {}
      certFile: {}
      keyFile: {}
      topics: ["mtls/#"]
    - name: nocert
      type: mqtt
      port: {}
      caFile: {}
      topics: ["nocert/#"]
      reconnectMax: 200ms
    - name: wrongname
      type: mqtt
      host: "127.1"
      port: {}
      caFile: {}
      topics: ["wrongname/#"]
      reconnectMax: 200ms
    - name: insecure
      type: mqtt
      host: "127.1"
      port: {}
      caFile: {}
      tlsInsecure: true
      topics: ["insecure/#"]
)",
                        broker_.tlsPort(), certs.ca, broker_.certPort(), certs.ca,
                        certs.client_cert, certs.client_key, broker_.certPort(), certs.ca,
                        broker_.tlsPort(), certs.ca, broker_.tlsPort(), certs.ca));
  // "127.1" reaches the broker but is not a name in its certificate (IP:127.0.0.1, localhost):
  // the host check refuses it unless tlsInsecure skips that check.
  ASSERT_TRUE(waitUntil([&] {
    return metrics().gauge("sie_mqtt_connected", "", {{"client", "tls"}}).value() == 1 &&
           metrics().gauge("sie_mqtt_connected", "", {{"client", "mtls"}}).value() == 1 &&
           metrics().gauge("sie_mqtt_connected", "", {{"client", "insecure"}}).value() == 1;
  }));
  ASSERT_EQ(run(fmt::format("mosquitto_pub -p {} --cafile {} -q 1 -t tls/a/temp -m 50",
                            broker_.tlsPort(), certs.ca)),
            0);
  ASSERT_EQ(run(fmt::format(
                "mosquitto_pub -p {} --cafile {} --cert {} --key {} -q 1 -t mtls/a/temp -m 51",
                broker_.certPort(), certs.ca, certs.client_cert, certs.client_key)),
            0);
  ASSERT_TRUE(
      waitUntil([&] { return readings("tls/a/temp") == 1 && readings("mtls/a/temp") == 1; }));
  // Without a client certificate the broker refuses the TLS handshake: counted, retried, no crash.
  ASSERT_TRUE(waitUntil([&] {
    return metrics()
               .counter("sie_mqtt_connection_losses_total", "", {{"client", "nocert"}})
               .value() >= 2;
  }));
  EXPECT_EQ(metrics().gauge("sie_mqtt_connected", "", {{"client", "nocert"}}).value(), 0);
  ASSERT_TRUE(waitUntil([&] {
    return metrics()
               .counter("sie_mqtt_connection_losses_total", "", {{"client", "wrongname"}})
               .value() >= 2;
  }));
  EXPECT_EQ(metrics().gauge("sie_mqtt_connected", "", {{"client", "wrongname"}}).value(), 0);
  EXPECT_EQ(metrics().counter("sie_mqtt_connects_total", "", {{"client", "wrongname"}}).value(), 0);
}

TEST_F(MqttTest, UsernameAndPassword) {
  const TempDir secrets;
  { std::ofstream(secrets.file("pw")) << "s3cret\n"; }
  startNode(fmt::format(R"(    - name: good
      type: mqtt
      port: {}
      username: plant
      passwordFile: {}
      topics: ["auth/#"]
    - name: bad
      type: mqtt
      port: {}
      username: plant
      password: wrong
      topics: ["auth/#"]
      reconnectMax: 200ms
)",
                        broker_.authPort(), secrets.file("pw"), broker_.authPort()));
  ASSERT_TRUE(waitUntil([&] {
    return metrics().gauge("sie_mqtt_connected", "", {{"client", "good"}}).value() == 1;
  }));
  ASSERT_EQ(run(fmt::format("mosquitto_pub -p {} -u plant -P s3cret -q 1 -t auth/x/temp -m 1",
                            broker_.authPort())),
            0);
  ASSERT_TRUE(waitUntil([&] { return readings("auth/x/temp") == 1; }));
  ASSERT_TRUE(waitUntil([&] {
    return metrics().counter("sie_mqtt_connection_losses_total", "", {{"client", "bad"}}).value() >=
           2;
  }));
  EXPECT_EQ(metrics().gauge("sie_mqtt_connected", "", {{"client", "bad"}}).value(), 0);
}

TEST_F(MqttTest, BrokerRestartsLoseNothing) {
  startNode(sourceBlock("      reconnectMax: 300ms\n"), sinkBlock("      reconnectMax: 300ms\n"));
  subscribe("restart-checker", "sie/+/+/decision");
  ASSERT_TRUE(waitUntil([&] { return metrics().counterTotal("sie_mqtt_connects_total") >= 2; }));
  const std::string pub =
      fmt::format(" | mosquitto_pub -p {} -q 1 -l -t plant/l3/p1/temp", broker_.port());
  ASSERT_EQ(run(telemetryLines(1, 100) + pub), 0);
  ASSERT_TRUE(waitUntil([&] { return readings("l3/p1/temp") == 100; }));

  broker_.stop();  // graceful: the broker saves its sessions
  broker_.start();
  ASSERT_EQ(run(telemetryLines(101, 200) + pub), 0);
  ASSERT_TRUE(waitUntil([&] { return readings("l3/p1/temp") == 200; })) << readings("l3/p1/temp");

  broker_.kill();  // abrupt
  broker_.start();
  ASSERT_EQ(run(telemetryLines(201, 300) + pub), 0);
  ASSERT_TRUE(waitUntil([&] { return readings("l3/p1/temp") == 300; })) << readings("l3/p1/temp");

  // Every reading recorded once; no decision was dead-lettered.
  for (const auto& letter : deadLetters()) {
    EXPECT_NE(letter.origin, "sink:out") << letter.reason;
  }
  EXPECT_GE(metrics().counter("sie_mqtt_connects_total", "", {{"client", "field"}}).value(), 3U);
}

TEST_F(MqttTest, PersistentSessionKeepsMessagesWhileTheNodeIsDown) {
  startNode(sourceBlock());
  ASSERT_TRUE(waitUntil([&] {
    return metrics().gauge("sie_mqtt_connected", "", {{"client", "field"}}).value() == 1;
  }));
  node_->stop();
  node_.reset();
  const std::string pub =
      fmt::format(" | mosquitto_pub -p {} -q 1 -l -t plant/l4/p1/temp", broker_.port());
  ASSERT_EQ(run(telemetryLines(1, 30) + pub), 0);  // nobody connected: the broker queues them
  startNode(sourceBlock());
  ASSERT_TRUE(waitUntil([&] { return readings("l4/p1/temp") == 30; })) << readings("l4/p1/temp");
}

TEST_F(MqttTest, SinkQueuesWhileTheBrokerIsDown) {
  startNode("", sinkBlock("      reconnectMax: 200ms\n"));
  subscribe("offline-checker", "sie/+/+/decision");
  ASSERT_TRUE(waitUntil([&] {
    return metrics().gauge("sie_mqtt_connected", "", {{"client", "out"}}).value() == 1;
  }));
  broker_.stop();
  const auto published = [] {
    return metrics().counter("sie_mqtt_messages_published_total", "", {{"sink", "out"}}).value();
  };
  const auto published_before = published();
  for (int i = 1; i <= 20; ++i) {
    Telemetry reading{Symbol::intern("l5/p1/temp"), 1000 + i, {70.0 + i}};
    reading.tags = {{"line", "l5"}, {"asset", "p1"}};
    ASSERT_TRUE(node_->ingest().ingest(std::move(reading), "test"));
  }
  // Every decision is queued for the broker while it is down.
  ASSERT_TRUE(waitUntil([&] { return published() - published_before == 20; }))
      << published() - published_before;
  broker_.start();
  const auto lines = collect("offline-checker", "sie/+/+/decision", 20);
  EXPECT_EQ(lines.size(), 20U);
  EXPECT_TRUE(deadLetters().empty());
}

TEST_F(MqttTest, SharedSubscriptionSplitsMessages) {
  startNode(fmt::format(R"(    - name: a
      type: mqtt
      port: {0}
      group: g1
      topics: ["shared/{{asset}}/temp"]
    - name: b
      type: mqtt
      port: {0}
      group: g1
      topics: ["shared/{{asset}}/temp"]
)",
                        broker_.port()));
  const auto received = [](const std::string& source) {
    return metrics().counter("sie_mqtt_messages_received_total", "", {{"source", source}}).value();
  };
  // Both subscriptions are in place once each consumer got a probe.
  const auto a_probed = received("a");
  const auto b_probed = received("b");
  ASSERT_TRUE(probeUntil("shared/probe/temp",
                         [&] { return received("a") > a_probed && received("b") > b_probed; }));
  const auto a_before = received("a");
  const auto b_before = received("b");
  // One sensor per message: a shared subscription splits a sensor's messages across consumers,
  // which would deliver them out of order.
  ASSERT_EQ(run(fmt::format("for i in $(seq 1 60); do mosquitto_pub -p {} -q 1 -t shared/p$i/temp "
                            "-m $i || exit 1; done",
                            broker_.port())),
            0);
  const auto total = [&] {
    std::size_t n = 0;
    for (int i = 1; i <= 60; ++i) n += readings(fmt::format("shared/p{}/temp", i));
    return n;
  };
  ASSERT_TRUE(waitUntil([&] { return total() == 60; })) << total() << " readings; " << describe();
  EXPECT_GT(received("a"), a_before);
  EXPECT_GT(received("b"), b_before);
}

TEST_F(MqttTest, SparkplugBirthDataGapAndRebirth) {
  namespace pb = org::eclipse::tahu::protobuf;
  startNode(fmt::format(R"(    - name: spb
      type: sparkplug
      port: {}
      groupId: plant
      rebirthInterval: 0s
)",
                        broker_.port()));
  ASSERT_TRUE(waitUntil([&] {
    return metrics().gauge("sie_mqtt_connected", "", {{"client", "spb"}}).value() == 1;
  }));
  ASSERT_TRUE(sparkplugSubscribed("spb"));
  subscribe("rebirth-watch", "spBv1.0/plant/NCMD/#");
  const auto send = [&](const std::string& topic, const pb::Payload& payload) {
    const std::string file = data_.file("frame.bin");
    std::ofstream(file, std::ios::binary) << payload.SerializeAsString();
    ASSERT_EQ(publish(fmt::format("-q 1 -t {} -f {}", topic, file)), 0);
  };
  pb::Payload birth;
  birth.set_seq(0);
  birth.set_timestamp(1'700'000'000'000);
  auto* metric = birth.add_metrics();
  metric->set_name("Flow");
  metric->set_alias(1);
  metric->set_datatype(pb::Double);
  metric->set_double_value(12.5);
  send("spBv1.0/plant/NBIRTH/edge1", birth);
  pb::Payload data;
  data.set_seq(1);
  data.set_timestamp(1'700'000'001'000);
  auto* value = data.add_metrics();
  value->set_alias(1);
  value->set_double_value(13.0);
  send("spBv1.0/plant/NDATA/edge1", data);
  ASSERT_TRUE(waitUntil([&] { return readings("plant/edge1/Flow") == 2; })) << describe();

  data.set_seq(7);  // a gap: the node is asked to rebirth, the error is dead-lettered
  data.set_timestamp(1'700'000'002'000);
  send("spBv1.0/plant/NDATA/edge1", data);
  const auto lines = collect("rebirth-watch", "spBv1.0/plant/NCMD/#", 1, "%t %x");
  ASSERT_EQ(lines.size(), 1U);
  ASSERT_THAT(lines[0], ::testing::StartsWith("spBv1.0/plant/NCMD/edge1 "));
  const std::string hex = lines[0].substr(lines[0].find(' ') + 1);
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  pb::Payload command;
  ASSERT_TRUE(command.ParseFromString(bytes));
  ASSERT_EQ(command.metrics_size(), 1);
  EXPECT_EQ(command.metrics(0).name(), "Node Control/Rebirth");
  EXPECT_TRUE(command.metrics(0).boolean_value());
  ASSERT_TRUE(waitUntil([&] { return !deadLetters().empty(); }));
  EXPECT_THAT(deadLetters()[0].reason,
              HasSubstr("sequence gap from plant/edge1: expected 2, got 7"));
  EXPECT_EQ(deadLetters()[0].subject, "spBv1.0/plant/NDATA/edge1");
}

// A primary host announces itself on spBv1.0/STATE/<hostId> (Sparkplug 3.0): its birth when
// connected; its will when the connection is lost without a DISCONNECT (here the broker drops it
// for another client taking the host's client id), then a new birth on reconnect; a birth again
// when someone marks it offline while it is connected; and its death, same timestamp as its
// birth, when it stops. Other hosts' STATE messages are neither data nor dead letters.
TEST_F(MqttTest, SparkplugPrimaryHostPublishesItsStateBirthWillAndDeath) {
  startNode(fmt::format(R"(    - name: spb
      type: sparkplug
      port: {}
      clientId: sie-scada
      groupId: "+"
      hostId: scada1
)",
                        broker_.port()));
  const auto retained = [&] {  // the STATE message the broker keeps for the host
    return capture(
        fmt::format("mosquitto_sub -p {} -t spBv1.0/STATE/scada1 -C 1 -W 3 -F %p", broker_.port()));
  };
  const auto stateOf = [](const std::string& line) {
    const auto json = nlohmann::json::parse(line, nullptr, false);
    return json.is_object() && json.contains("online") && json.contains("timestamp")
               ? std::optional(
                     std::pair(json["online"].get<bool>(), json["timestamp"].get<std::int64_t>()))
               : std::nullopt;
  };
  std::optional<std::pair<bool, std::int64_t>> birth;
  ASSERT_TRUE(waitUntil([&] {
    birth = stateOf(retained());
    return birth && birth->first;
  }));
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  EXPECT_NEAR(static_cast<double>(birth->second), static_cast<double>(now_ms), 60'000);

  // Every STATE message from here on, one per line.
  const std::string log = data_.file("state.log");
  ASSERT_EQ(run(fmt::format("mosquitto_sub -p {} -t spBv1.0/STATE/scada1 -F %p -W 20 > {} 2>&1 &",
                            broker_.port(), log)),
            0);
  const auto states = [&] {
    std::vector<std::pair<bool, std::int64_t>> out;
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) {
      if (auto state = stateOf(line)) out.push_back(*state);
    }
    return out;
  };
  ASSERT_TRUE(waitUntil([&] { return !states().empty(); }));  // the retained birth
  run(fmt::format("mosquitto_sub -p {} -i sie-scada -t nothing -W 1 >/dev/null 2>&1",
                  broker_.port()));
  ASSERT_TRUE(waitUntil([&] {
    const auto seen = states();
    const auto will = std::find(seen.begin(), seen.end(), std::pair(false, birth->second));
    return will != seen.end() && std::any_of(will, seen.end(), [&](const auto& state) {
             return state.first && state.second > birth->second;
           });
  })) << "STATE messages: "
      << states().size();

  // A stale death over a connected host's birth is answered.
  ASSERT_TRUE(waitUntil([&] {
    const auto state = stateOf(retained());
    return state && state->first;
  }));
  ASSERT_EQ(publish("-q 1 -r -t spBv1.0/STATE/scada1 -m '{\"online\":false,\"timestamp\":1}'"), 0);
  ASSERT_TRUE(waitUntil([&] {
    const auto state = stateOf(retained());
    return state && state->first && state->second > 1;
  }));

  // Hostile STATE messages on its topic: an oversized payload is refused unparsed, and a flood of
  // deaths is answered by a birth at most once a second, the last word being the host's birth.
  const auto errors = [] {
    return metrics().counter("sie_sparkplug_errors_total", "", {{"source", "spb"}}).value();
  };
  const auto errors_before = errors();
  ASSERT_EQ(run(fmt::format("head -c 100000 /dev/zero | tr '\\0' '[' | mosquitto_pub -p {} -q 1 "
                            "-t spBv1.0/STATE/scada1 -s",
                            broker_.port())),
            0);
  // At least once: groupId "+" subscribes to spBv1.0/+/#, which overlaps the host's own topic.
  ASSERT_TRUE(waitUntil([&] { return errors() >= errors_before + 1; }));
  const std::string flood_log = data_.file("flood.log");
  ASSERT_EQ(run(fmt::format("mosquitto_sub -p {} -t spBv1.0/STATE/scada1 -F %p -W 15 > {} 2>&1 &",
                            broker_.port(), flood_log)),
            0);
  const auto births = [&] {
    int n = 0;
    std::ifstream in(flood_log);
    for (std::string line; std::getline(in, line);) {
      if (auto state = stateOf(line); state && state->first) ++n;
    }
    return n;
  };
  ASSERT_TRUE(waitUntil([&] { return births() >= 1; }));  // the retained birth, subscribed
  const auto flood_start = std::chrono::steady_clock::now();
  ASSERT_EQ(run(fmt::format("for i in $(seq 30); do echo '{{\"online\":false,\"timestamp\":2}}'; "
                            "done | mosquitto_pub -p {} -q 1 -r -t spBv1.0/STATE/scada1 -l",
                            broker_.port())),
            0);
  const auto flood_took = std::chrono::steady_clock::now() - flood_start;
  ASSERT_TRUE(waitUntil([&] {
    const auto state = stateOf(retained());
    return state && state->first;
  })) << "the host's birth is the last word";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // any late answers come out
  const auto answered = births() - 1;
  const auto flood_seconds = std::chrono::duration_cast<std::chrono::seconds>(flood_took).count();
  EXPECT_GE(answered, 1);
  EXPECT_LE(answered, flood_seconds + 3) << "30 deaths in about " << flood_seconds << " s";
  const std::int64_t last_birth = stateOf(retained())->second;

  // Another host's STATE is not data.
  ASSERT_EQ(publish("-q 1 -t spBv1.0/STATE/other -m '{\"online\":true,\"timestamp\":5}'"), 0);
  ASSERT_TRUE(sparkplugSubscribed("spb"));
  EXPECT_TRUE(deadLetters().empty()) << describe();

  node_->stop();
  node_.reset();
  const auto death = stateOf(retained());
  ASSERT_TRUE(death);
  EXPECT_FALSE(death->first);
  EXPECT_EQ(death->second, last_birth);
}

// An edge node no one here wrote: Eclipse Tahu's sparkplug-client for Node.js (installed by the
// test command into test/thirdparty) is born with a device, sends data, and stops with its NDEATH.
TEST_F(MqttTest, ATahuEdgeNodeIsFollowedFromBirthToDeath) {
  const std::string folder = SIE_SOURCE_DIR "/test/thirdparty";
  ASSERT_TRUE(std::filesystem::exists(folder + "/node_modules/sparkplug-client"))
      << "sparkplug-client is not installed: npm ci --prefix " << folder;
  startNode(fmt::format(R"(    - name: spb
      type: sparkplug
      port: {}
      groupId: plant
)",
                        broker_.port()));
  ASSERT_TRUE(sparkplugSubscribed("spb"));
  const pid_t edge =
      testing::spawnServer({"node", folder + "/sparkplug_edge.js", std::to_string(broker_.port())});
  ASSERT_GT(edge, 0);
  const bool followed = waitUntil([&] {
    return readings("plant/tahu1/Temperature") == 2 && readings("plant/tahu1/Running") == 1 &&
           readings("plant/tahu1/pump1/Pressure") == 2;
  });
  ::kill(edge, SIGTERM);  // it stops with its NDEATH
  ::waitpid(edge, nullptr, 0);
  ASSERT_TRUE(followed) << describe();
  const auto series = [&](std::string_view sensor) {
    return *node_->state().timeSeries().range(Symbol::intern(sensor), 0,
                                              std::numeric_limits<std::int64_t>::max(), 100);
  };
  EXPECT_DOUBLE_EQ(series("plant/tahu1/Temperature")[0].values[0], 20.5);
  EXPECT_DOUBLE_EQ(series("plant/tahu1/Temperature")[1].values[0], 21.25);
  EXPECT_DOUBLE_EQ(series("plant/tahu1/Running")[0].values[0], 1);
  EXPECT_DOUBLE_EQ(series("plant/tahu1/pump1/Pressure")[1].values[0], 5);
  ASSERT_TRUE(waitUntil([&] {
    const auto temperature = series("plant/tahu1/Temperature");
    return temperature.size() == 3 && temperature.back().quality == Quality::kBad;
  })) << "the NDEATH did not mark the node's metrics stale";
  EXPECT_TRUE(deadLetters().empty()) << describe();
}

// A death always marks the sensors stale, whatever the edge node's clock: 5 s ahead of the
// node's (its readings then carry timestamps later than the death's arrival) or 5 s behind, for
// DDEATH, and for NDEATH as the MQTT will the broker publishes when an edge node is killed.
TEST_F(MqttTest, SparkplugDeathsMarkSensorsStaleUnderClockSkew) {
  namespace pb = org::eclipse::tahu::protobuf;
  startNode(fmt::format(R"(    - name: spb
      type: sparkplug
      port: {}
      groupId: plant
      rebirthInterval: 0s
)",
                        broker_.port()));
  ASSERT_TRUE(waitUntil([&] {
    return metrics().gauge("sie_mqtt_connected", "", {{"client", "spb"}}).value() == 1;
  }));
  ASSERT_TRUE(sparkplugSubscribed("spb"));
  const auto send = [&](const std::string& topic, const pb::Payload& payload) {
    const std::string file = data_.file("frame.bin");
    std::ofstream(file, std::ios::binary) << payload.SerializeAsString();
    ASSERT_EQ(publish(fmt::format("-q 1 -t {} -f {}", topic, file)), 0);
  };
  const auto frame = [](std::uint64_t seq, std::int64_t ts_ms) {
    pb::Payload p;
    p.set_seq(seq);
    p.set_timestamp(static_cast<std::uint64_t>(ts_ms));
    return p;
  };
  const auto metric = [](pb::Payload& p, const std::string& name, std::uint64_t alias,
                         double value) {
    auto* m = p.add_metrics();
    if (!name.empty()) m->set_name(name);
    m->set_alias(alias);
    m->set_datatype(pb::Double);
    m->set_double_value(value);
  };
  const auto quality = [&](const std::string& sensor) {
    auto last = node_->state().timeSeries().lastN(Symbol::intern(sensor), 1);
    return last && !last->empty() ? last->back().quality : Quality::kGood;
  };
  pb::Payload will;  // NDEATH: the session's bdSeq, nothing else
  auto* bd_seq = will.add_metrics();
  bd_seq->set_name("bdSeq");
  bd_seq->set_datatype(pb::Int64);
  bd_seq->set_long_value(3);
  std::string will_escaped;  // for printf(1): the broker holds it from the edge node's CONNECT
  for (const unsigned char c : will.SerializeAsString()) {
    ASSERT_NE(c, 0) << "a will payload is passed on a command line";
    will_escaped += fmt::format("\\{:03o}", c);
  }

  for (const std::int64_t skew_ms : {5000, -5000}) {
    const std::string edge = skew_ms > 0 ? "ahead" : "behind";
    SCOPED_TRACE(edge);
    // The edge node's own connection, holding its will, as a real edge node would.
    subscribe("ready-" + edge, "edge/" + edge + "/ready");
    const std::string pid = capture(fmt::format(
        "(echo up; sleep 30) 2>/dev/null | mosquitto_pub -p {} -i edge-{} -l -q 1 -t edge/{}/ready "
        "--will-topic spBv1.0/plant/NDEATH/{} --will-qos 1 --will-payload \"$(printf '{}')\" "
        ">/dev/null 2>&1 & echo $!",
        broker_.port(), edge, edge, edge, will_escaped));
    ASSERT_EQ(collect("ready-" + edge, "edge/" + edge + "/ready", 1).size(), 1U);

    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count() +
                                skew_ms;
    pb::Payload birth = frame(0, now_ms);
    auto* seq = birth.add_metrics();
    seq->set_name("bdSeq");
    seq->set_datatype(pb::Int64);
    seq->set_long_value(3);
    metric(birth, "Flow", 1, 12.5);
    send("spBv1.0/plant/NBIRTH/" + edge, birth);
    pb::Payload device = frame(1, now_ms);
    metric(device, "Level", 2, 2.5);
    send("spBv1.0/plant/DBIRTH/" + edge + "/tank", device);
    pb::Payload data = frame(2, now_ms + 100);
    metric(data, "", 1, 13.0);
    send("spBv1.0/plant/NDATA/" + edge, data);
    const std::string flow = "plant/" + edge + "/Flow";
    const std::string level = "plant/" + edge + "/tank/Level";
    ASSERT_TRUE(waitUntil([&] { return readings(flow) == 2 && readings(level) == 1; }))
        << describe();

    send("spBv1.0/plant/DDEATH/" + edge + "/tank", frame(3, now_ms + 200));
    ASSERT_TRUE(waitUntil([&] { return quality(level) == Quality::kBad; })) << describe();
    EXPECT_EQ(quality(flow), Quality::kGood);

    ASSERT_EQ(run("kill -9 " + pid), 0);  // the broker publishes the will
    ASSERT_TRUE(waitUntil([&] { return quality(flow) == Quality::kBad; })) << describe();
  }
  for (const auto& letter : deadLetters()) ADD_FAILURE() << letter.subject << ": " << letter.reason;
}

// Operator badges on a machine-access sensor: the sink publishes decisions whose topic and data
// carry the badge, under a pseudonymize rule. The subscriber never sees a badge or a name, only
// the keyed pseudonym, and the same one after the node restarts.
TEST_F(MqttTest, PrivacyRulesKeepBadgesAndNamesOffTheBrokerAcrossRestarts) {
  const std::string key = std::string(64, '7');
  { std::ofstream(data_.file("privacy.key")) << key << "\n"; }
  const std::string site = testing::siteWith(fmt::format(R"(    - name: access
      type: mqtt
      port: {}
      topics: ["plant/{{line}}/{{asset}}/{{signal}}"]
      sensor: "{{line}}/{{asset}}/{{signal}}"
      carry: [seq, badge, operator]
)",
                                                         broker_.port()),
                                             fmt::format(R"(    - name: cloud
      type: mqtt
      port: {}
      topic: "sie/{{badge}}/decision"
      privacy:
        - {{field: tags.badge, action: pseudonymize, length: 16}}
        - {{field: tags.operator, action: drop}}
        - {{field: value, action: generalize, step: 10}}
)",
                                                         broker_.port())) +
                           fmt::format(R"(  privacy:
    keyFile: {}
    personal: [tags.badge, tags.operator]
    api: [{{field: tags.badge, action: pseudonymize}}, {{field: tags.operator, action: drop}}]
)",
                                       data_.file("privacy.key"));
  const auto start = [&] {
    auto made =
        testing::makeNode(site, {{"t/functions/hot.yaml", kFunction}}, data_.path(), plugins_);
    ASSERT_TRUE(made) << made.error().str();
    node_ = std::move(*made);
    ASSERT_TRUE(node_->start());
  };
  const auto expected = privacy::Pseudonymizer::fromKey(key, "test")->pseudonym("B-1001", 16);
  subscribe("privacy-checker", "sie/#");
  const std::uint64_t connects = metrics().counterTotal("sie_mqtt_connects_total");
  start();
  ASSERT_TRUE(
      waitUntil([&] { return metrics().counterTotal("sie_mqtt_connects_total") >= connects + 2; }));
  const auto send = [&](int seq, const std::string& badge) {
    ASSERT_EQ(publish(fmt::format(
                  "-q 1 -t plant/l1/door1/temp -m '{{\"value\": {}, \"ts_ms\": {}, \"seq\": {}, "
                  "\"badge\": \"{}\", \"operator\": \"Jane Roe\"}}'",
                  81 + seq, 1700000000000 + seq, seq, badge)),
              0);
  };
  send(1, "B-1001");
  send(2, "B-1002");
  send(3, "B-1001");
  auto lines = collect("privacy-checker", "sie/#", 3);
  ASSERT_EQ(lines.size(), 3U);
  std::set<std::string> pseudonyms;
  for (const auto& line : lines) {
    EXPECT_THAT(line, ::testing::Not(HasSubstr("B-100"))) << line;
    EXPECT_THAT(line, ::testing::Not(HasSubstr("Jane"))) << line;
    const auto decision = nlohmann::json::parse(line.substr(line.find(' ') + 1));
    const std::string pseudonym = decision["tags"]["badge"];
    EXPECT_EQ(line.substr(0, line.find(' ')), "sie/" + pseudonym + "/decision");
    EXPECT_FALSE(decision["tags"].contains("operator"));
    EXPECT_EQ(std::fmod(decision["value"].get<double>(), 10.0), 0.0) << line;
    pseudonyms.insert(pseudonym);
  }
  EXPECT_EQ(pseudonyms.size(), 2U);
  EXPECT_TRUE(pseudonyms.contains(expected));

  node_->stop();
  node_.reset();
  start();
  ASSERT_TRUE(
      waitUntil([&] { return metrics().counterTotal("sie_mqtt_connects_total") >= connects + 4; }));
  send(4, "B-1001");
  // At least once: the checker's session may be handed an earlier decision again first.
  std::string fourth;
  for (int i = 0; i < 5 && fourth.empty(); ++i) {
    lines = collect("privacy-checker", "sie/#", 1);
    ASSERT_EQ(lines.size(), 1U);
    if (lines[0].find(R"("seq":"4")") != std::string::npos) fourth = lines[0];
  }
  EXPECT_EQ(fourth.substr(0, fourth.find(' ')), "sie/" + expected + "/decision") << fourth;
}

TEST_F(MqttTest, ASinkWithoutARuleForAPersonalFieldIsRefused) {
  auto made = testing::makeNode(
      testing::siteWith("", sinkBlock()) + "  privacy: {personal: [tags.badge]}\n",
      {{"t/functions/hot.yaml", kFunction}}, data_.path(), plugins_);
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("sink 'out' would send the personal field tags.badge"));
}

TEST_F(MqttTest, ConfigErrorsNameTheKey) {
  auto made = makeNode("    - {name: x, type: mqtt, topics: [\"a/{b\"]}\n", "");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("mixes braces"));
  made = makeNode("    - {name: x, type: mqtt, topics: [a], qos: 2}\n", "");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("qos must be 0 or 1"));
  made = makeNode("    - {name: x, type: mqtt, topics: [a], certFile: /nope}\n", "");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("set certFile and keyFile together"));
  made = makeNode("    - {name: x, type: mqtt, topics: [a], caFile: /nope/ca.pem}\n", "");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("caFile '/nope/ca.pem' is not a readable file"));
  const TempDir files;
  { std::ofstream(files.file("junk.pem")) << "not a certificate\n"; }
  made = makeNode(fmt::format("    - {{name: x, type: mqtt, topics: [a], caFile: {}}}\n",
                              files.file("junk.pem")),
                  "");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(),
              HasSubstr(fmt::format("caFile '{}': cannot load the CA certificates",
                                    files.file("junk.pem"))));
  const auto& certs = broker_.certs();
  made = makeNode(fmt::format("    - {{name: x, type: mqtt, topics: [a], caFile: {}, certFile: {}, "
                              "keyFile: {}}}\n",
                              certs.ca, certs.client_cert, certs.server_key),
                  "");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(),
              HasSubstr(fmt::format("keyFile '{}': is not the unencrypted PEM private key of "
                                    "certFile (key values mismatch)",
                                    certs.server_key)));
  made = makeNode("", "    - {name: y, type: mqtt, topic: \"a/#\"}\n");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("must not contain the wildcards"));
  made = makeNode("    - {name: x, type: mqtt}\n", "");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("topics"));
}

}  // namespace
}  // namespace sie
