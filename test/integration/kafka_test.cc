// The Kafka sink against librdkafka's mock cluster: real Kafka protocol over loopback TCP.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <fstream>
#include <map>
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
#include "test_node.h"

namespace sie {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::waitUntil;

constexpr const char* kFunction = R"(apiVersion: sie/v1
kind: Function
metadata: {name: hot, version: "1"}
spec: {runtime: builtin, handler: threshold, triggers: ["k/+/temp"], params: {max: 80}}
)";

class KafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    ASSERT_TRUE(registerBuiltinPlugins(plugins_));
    char error[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", error, sizeof error);
    owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    ASSERT_NE(owner_, nullptr) << error;
    cluster_ = rd_kafka_mock_cluster_new(owner_, 3);
    ASSERT_NE(cluster_, nullptr);
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, "sie.decisions", 3, 3),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    brokers_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  void TearDown() override {
    if (node_) node_->stop();
    node_.reset();
    if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
    if (owner_) rd_kafka_destroy(owner_);
  }

  void startNode(const std::string& extra) {
    auto made = testing::makeNode(
        testing::siteWith(
            "", fmt::format("    - {{name: stream, type: kafka, brokers: \"{}\"{}}}\n", brokers_,
                            extra)),
        {{"t/functions/hot.yaml", kFunction}}, data_.path(), plugins_);
    ASSERT_TRUE(made) << made.error().str();
    node_ = std::move(*made);
    ASSERT_TRUE(node_->start());
  }

  // Reads `count` messages of the topic from the beginning: (key, value) in arrival order.
  std::vector<std::pair<std::string, std::string>> consumeRaw(std::size_t count) {
    char error[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers_.c_str(), error, sizeof error);
    rd_kafka_conf_set(conf, "group.id", "checker", error, sizeof error);
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", error, sizeof error);
    rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    rd_kafka_poll_set_consumer(consumer);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, "sie.decisions", RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    std::vector<std::pair<std::string, std::string>> out;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
      if (!m) continue;
      if (!m->err) {
        out.emplace_back(std::string(static_cast<const char*>(m->key), m->key_len),
                         std::string(static_cast<const char*>(m->payload), m->len));
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    return out;
  }

  // Reads `count` messages of the topic from the beginning: key -> values in partition order.
  std::map<std::string, std::vector<double>> consume(std::size_t count) {
    std::map<std::string, std::vector<double>> out;
    for (const auto& [key, value] : consumeRaw(count)) {
      out[key].push_back(nlohmann::json::parse(value)["value"].get<double>());
    }
    return out;
  }

  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string brokers_;
  TempDir data_;
  Plugins plugins_;
  std::unique_ptr<node::Node> node_;
};

TEST_F(KafkaTest, DecisionsArriveKeyedBySensorInOrder) {
  startNode("");
  for (int i = 1; i <= 20; ++i) {
    const std::string sensor = i % 2 == 0 ? "k/a/temp" : "k/b/temp";
    ASSERT_TRUE(node_->ingest().ingest(Telemetry{Symbol::intern(sensor), i, {60.0 + i}}, "test"));
  }
  ASSERT_TRUE(waitUntil([&] {
    return metrics().counter("sie_kafka_delivered_total", "", {{"sink", "stream"}}).value() >= 20;
  }));
  const auto messages = consume(20);
  ASSERT_EQ(messages.size(), 2U);
  for (const auto& [key, values] : messages) {
    EXPECT_EQ(values.size(), 10U) << key;
    EXPECT_TRUE(std::is_sorted(values.begin(), values.end())) << key;  // one partition per sensor
  }
}

TEST_F(KafkaTest, UndeliverableMessagesAreDeadLetteredWithTheReason) {
  startNode(", deliveryTimeout: 300ms");
  for (int id = 1; id <= 3; ++id) rd_kafka_mock_broker_set_down(cluster_, id);
  ASSERT_TRUE(node_->ingest().ingest(Telemetry{Symbol::intern("k/c/temp"), 1, {99}}, "test"));
  ASSERT_TRUE(waitUntil([&] {
    auto letters = node_->state().deadLetters().list(10);
    return letters && letters->size() == 1;
  }));
  const auto letters = *node_->state().deadLetters().list(10);
  EXPECT_EQ(letters[0].origin, "sink:stream");
  EXPECT_EQ(letters[0].subject, "k/c/temp");
  EXPECT_THAT(letters[0].reason, HasSubstr("kafka did not take the message"));
  EXPECT_THAT(letters[0].payload, HasSubstr("\"anomaly\":true"));
}

// The sensor id names the person here (one badge reader per operator desk): the key, the data and
// the tags all carry pseudonyms, stable across a restart of the node.
TEST_F(KafkaTest, PrivacyRulesCoverTheKeyAndTheDataAcrossRestarts) {
  const std::string key = std::string(32, 'z');
  { std::ofstream(data_.file("privacy.key")) << key << "\n"; }
  const std::string site =
      testing::siteWith(
          "", fmt::format("    - {{name: stream, type: kafka, brokers: \"{}\", privacy: "
                          "[{{field: sensor, action: pseudonymize}}, {{field: tags.badge, "
                          "action: pseudonymize}}]}}\n",
                          brokers_)) +
      fmt::format(
          "  privacy: {{keyFile: {}, personal: [sensor, tags.badge], api: [{{field: "
          "sensor, action: drop}}, {{field: tags.badge, action: drop}}]}}\n",
          data_.file("privacy.key"));
  const auto start = [&] {
    auto made =
        testing::makeNode(site, {{"t/functions/hot.yaml", kFunction}}, data_.path(), plugins_);
    ASSERT_TRUE(made) << made.error().str();
    node_ = std::move(*made);
    ASSERT_TRUE(node_->start());
  };
  const auto send = [&](std::int64_t ts) {
    Telemetry reading{Symbol::intern("k/desk-B-3001/temp"), ts, {90}};
    reading.tags = {{"badge", "B-3001"}};
    ASSERT_TRUE(node_->ingest().ingest(std::move(reading), "test"));
  };
  const auto delivered = [&] {
    return metrics().counter("sie_kafka_delivered_total", "", {{"sink", "stream"}}).value();
  };
  start();
  send(1);
  ASSERT_TRUE(waitUntil([&] { return delivered() >= 1; }));
  node_->stop();
  node_.reset();
  start();
  send(2);
  ASSERT_TRUE(waitUntil([&] { return delivered() >= 2; }));

  const auto pseudonymizer = privacy::Pseudonymizer::fromKey(key, "test");
  const auto messages = consumeRaw(2);
  ASSERT_EQ(messages.size(), 2U);
  for (const auto& [message_key, value] : messages) {
    EXPECT_EQ(message_key, pseudonymizer->pseudonym("k/desk-B-3001/temp", 16));
    EXPECT_THAT(value, ::testing::Not(HasSubstr("B-3001"))) << value;
    const auto data = nlohmann::json::parse(value);
    EXPECT_EQ(data["sensor"], message_key);
    EXPECT_EQ(data["tags"]["badge"], pseudonymizer->pseudonym("B-3001", 16));
  }
}

TEST_F(KafkaTest, BadSettingsNameTheProperty) {
  const std::string site = fmt::format(R"(apiVersion: sie/v1
kind: Site
spec:
  http: ""
  sinks:
    - {{name: s, type: kafka, brokers: "{}", properties: ["acks=maybe"]}}
)",
                                       brokers_);
  auto parsed = node::parseSite({"t/site.yaml", site}, {});
  ASSERT_TRUE(parsed);
  parsed->data_dir = data_.path();
  auto made = node::Node::create(std::move(*parsed), plugins_);
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("t/site.yaml:6: property acks=maybe"));
}

}  // namespace
}  // namespace sie
