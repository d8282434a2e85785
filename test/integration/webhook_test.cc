// The webhook sink against a real HTTP server (Python's http.server), fed by real decisions.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "node/node.h"
#include "privacy/pseudonymizer.h"
#include "security/pki.h"
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
spec: {runtime: builtin, handler: threshold, triggers: ["w/+/temp"], params: {max: 80}}
)";

// The Python receiver as a child process.
class Receiver {
 public:
  // With `tls` = {cert, key, ca}: TLS 1.3 that requires a client certificate of that CA.
  Receiver(int port, const std::string& log, int fail_first,
           const std::vector<std::string>& tls = {}) {
    const std::string script =
        std::string(SIE_SOURCE_DIR) + "/test/integration/support/webhook_receiver.py";
    std::vector<std::string> args = {"python3", script, std::to_string(port), log,
                                     std::to_string(fail_first)};
    args.insert(args.end(), tls.begin(), tls.end());
    pid_ = testing::spawnServer(args);
    EXPECT_TRUE(testing::waitForPort(port)) << "the webhook receiver did not start";
  }
  ~Receiver() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_ = -1;
};

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    ASSERT_TRUE(registerBuiltinPlugins(plugins_));
  }
  void TearDown() override {
    if (node_) node_->stop();
  }
  void startNode(const std::string& sink) {
    auto made = testing::makeNode(testing::siteWith("", sink),
                                  {{"t/functions/hot.yaml", kFunction}}, data_.path(), plugins_);
    ASSERT_TRUE(made) << made.error().str();
    node_ = std::move(*made);
    ASSERT_TRUE(node_->start());
  }
  void reading(int ts, double value, const std::string& sensor = "w/p1/temp") {
    ASSERT_TRUE(node_->ingest().ingest(Telemetry{Symbol::intern(sensor), ts, {value}}, "test"));
  }
  // The receiver appends while we read: a line it is still writing has no newline yet.
  std::vector<nlohmann::json> received() {
    std::vector<nlohmann::json> out;
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line) && !in.eof();) {
      out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }
  std::vector<DeadLetter> deadLetters() {
    auto got = node_->state().deadLetters().list(100);
    return got ? *got : std::vector<DeadLetter>{};
  }

  int port_ = testing::freePort();
  TempDir data_;
  std::string log_ = data_.file("received.jsonl");
  Plugins plugins_;
  std::unique_ptr<node::Node> node_;
};

TEST_F(WebhookTest, BinaryModeDeliversEveryDecisionInOrder) {
  Receiver receiver(port_, log_, 0);
  startNode(
      fmt::format("    - {{name: hook, type: webhook, url: \"http://127.0.0.1:{}/events?src=sie\", "
                  "headers: [\"X-Api-Key: k1\"]}}\n",
                  port_));
  for (int i = 1; i <= 10; ++i) reading(i, 70 + i);
  ASSERT_TRUE(waitUntil([&] { return received().size() == 10; }));
  const auto got = received();
  for (int i = 0; i < 10; ++i) {
    const auto& h = got[static_cast<std::size_t>(i)]["headers"];
    EXPECT_EQ(h["ce-specversion"], "1.0");
    EXPECT_EQ(h["ce-type"], "io.sie.decision");
    EXPECT_EQ(h["ce-subject"], "w/p1/temp");
    EXPECT_EQ(h["x-api-key"], "k1");
    const auto body =
        nlohmann::json::parse(got[static_cast<std::size_t>(i)]["body"].get<std::string>());
    EXPECT_EQ(body["value"], 71 + i);  // in order
    EXPECT_EQ(body["anomaly"], 71 + i > 80);
  }
}

// Badges read at a door, carried as tags: the receiver sees the keyed pseudonym in the body (both
// modes) and never the badge, in headers or body; after a restart the same badge gets the same
// pseudonym.
TEST_F(WebhookTest, PrivacyRulesKeepBadgesFromTheReceiverAcrossRestarts) {
  Receiver receiver(port_, log_, 0);
  const std::string key = std::string(48, 'q');
  { std::ofstream(data_.file("privacy.key")) << key << "\n"; }
  const std::string site =
      testing::siteWith("", fmt::format(R"(    - name: binary
      type: webhook
      url: "http://127.0.0.1:{0}/b"
      privacy:
        - {{field: tags.badge, action: pseudonymize}}
        - {{field: tags.operator, action: drop}}
        - {{field: ts_ns, action: generalize, period: 1h}}
    - name: structured
      type: webhook
      url: "http://127.0.0.1:{0}/s"
      mode: structured
      privacy:
        - {{field: tags.badge, action: pseudonymize}}
        - {{field: tags.operator, action: pseudonymize}}
)",
                                        port_)) +
      fmt::format(
          "  privacy:\n    keyFile: {}\n    personal: [tags.badge, tags.operator]\n"
          "    api: [{{field: tags.badge, action: drop}}, {{field: tags.operator, "
          "action: drop}}]\n",
          data_.file("privacy.key"));
  const auto start = [&] {
    auto made =
        testing::makeNode(site, {{"t/functions/hot.yaml", kFunction}}, data_.path(), plugins_);
    ASSERT_TRUE(made) << made.error().str();
    node_ = std::move(*made);
    ASSERT_TRUE(node_->start());
  };
  const auto badgeReading = [&](std::int64_t ts, const std::string& badge) {
    Telemetry reading{Symbol::intern("w/door1/temp"), ts, {90}};
    reading.tags = {{"badge", badge}, {"operator", "Jane Roe"}};
    ASSERT_TRUE(node_->ingest().ingest(std::move(reading), "test"));
  };
  const std::string expected =
      privacy::Pseudonymizer::fromKey(key, "test")->pseudonym("B-2001", 16);
  start();
  badgeReading(1700000123000000000, "B-2001");
  ASSERT_TRUE(waitUntil([&] { return received().size() == 2; }));
  node_->stop();
  node_.reset();
  start();
  badgeReading(1700000124000000000, "B-2001");
  ASSERT_TRUE(waitUntil([&] { return received().size() == 4; }));

  for (const auto& request : received()) {
    EXPECT_THAT(request.dump(), ::testing::Not(HasSubstr("B-2001")));
    EXPECT_THAT(request.dump(), ::testing::Not(HasSubstr("Jane")));
    auto body = nlohmann::json::parse(request["body"].get<std::string>());
    if (request["headers"]["content-type"] == "application/cloudevents+json") {
      body = body["data"];
      EXPECT_EQ(body["tags"]["operator"].get<std::string>().size(), 16U);
    } else {
      EXPECT_FALSE(body["tags"].contains("operator"));
      EXPECT_EQ(body["ts_ns"], 1699999200000000000);
    }
    EXPECT_EQ(body["tags"]["badge"], expected) << request.dump();
  }
  EXPECT_TRUE(deadLetters().empty());
}

TEST_F(WebhookTest, StructuredModeAndRetriesAfter503) {
  Receiver receiver(port_, log_, 2);  // the first two answers are 503
  startNode(fmt::format(
      "    - {{name: hook2, type: webhook, url: \"http://127.0.0.1:{}/\", mode: structured, "
      "retryBackoff: 10ms}}\n",
      port_));
  reading(1, 99);
  ASSERT_TRUE(waitUntil([&] { return received().size() == 1; }));
  const auto got = received();
  EXPECT_EQ(got[0]["headers"]["content-type"], "application/cloudevents+json");
  const auto event = nlohmann::json::parse(got[0]["body"].get<std::string>());
  EXPECT_EQ(event["specversion"], "1.0");
  EXPECT_EQ(event["type"], "io.sie.decision");
  EXPECT_EQ(event["data"]["anomaly"], true);
  EXPECT_EQ(metrics().counter("sie_webhook_retries_total", "", {{"sink", "hook2"}}).value(), 2U);
  EXPECT_TRUE(deadLetters().empty());
}

TEST_F(WebhookTest, RefusalsAndUnreachableEndpointsAreDeadLettered) {
  {
    Receiver receiver(port_, log_, 0);
    startNode(fmt::format(
        "    - {{name: hook3, type: webhook, url: \"http://127.0.0.1:{}/\", retries: 2, "
        "retryBackoff: 10ms, timeout: 500ms}}\n",
        port_));
    reading(1, 99, "w/reject-me/temp");  // the receiver answers 400: not retried
    ASSERT_TRUE(waitUntil([&] { return deadLetters().size() == 1; }));
    EXPECT_EQ(deadLetters()[0].reason, "the webhook answered 400");
    EXPECT_EQ(deadLetters()[0].origin, "sink:hook3");
    EXPECT_EQ(metrics().counter("sie_webhook_retries_total", "", {{"sink", "hook3"}}).value(), 0U);
  }
  reading(2, 99);  // the receiver is gone
  ASSERT_TRUE(waitUntil([&] { return deadLetters().size() == 2; }));
  EXPECT_THAT(deadLetters()[0].reason, HasSubstr("cannot connect"));
  EXPECT_EQ(metrics().counter("sie_webhook_retries_total", "", {{"sink", "hook3"}}).value(), 2U);
}

TEST_F(WebhookTest, DeliversOverMutualTlsAndRefusesAnEndpointItCannotVerify) {
  auto ca = security::SiteCa::init(data_.file("pki"), "plant-a", security::KeyType::kEcdsaP256,
                                   std::chrono::hours(24));
  ASSERT_TRUE(ca) << ca.error().str();
  auto server = ca->issue({.kind = security::IdentityKind::kNode, .name = "receiver"});
  auto self = ca->issue({.kind = security::IdentityKind::kNode, .name = "edge-1"});
  ASSERT_TRUE(server && self);
  Receiver receiver(port_, log_, 0, {server->cert_file, server->key_file, ca->caFile()});
  startNode(fmt::format(
      "    - {{name: secure, type: webhook, url: \"https://127.0.0.1:{}/in\", caFile: {}, "
      "certFile: {}, keyFile: {}}}\n"
      "    - {{name: distrustful, type: webhook, url: \"https://127.0.0.1:{}/in\", retries: 0}}\n"
      "    - {{name: anonymous, type: webhook, url: \"https://127.0.0.1:{}/in\", caFile: {}, "
      "retries: 0}}\n",
      port_, ca->caFile(), self->cert_file, self->key_file, port_, port_, ca->caFile()));
  reading(1, 99);
  ASSERT_TRUE(waitUntil([&] { return received().size() == 1; }));
  const auto got = received();
  EXPECT_THAT(got[0]["peer"].dump(), HasSubstr("spiffe://plant-a/node/edge-1"));
  EXPECT_EQ(nlohmann::json::parse(got[0]["body"].get<std::string>())["value"], 99);
  // Without the site CA the sink does not trust the endpoint; without a certificate the
  // endpoint does not trust the sink. Both dead-letter, and the receiver saw only the one.
  ASSERT_TRUE(waitUntil([&] { return deadLetters().size() == 2; }));
  std::string reasons;
  for (const auto& letter : deadLetters()) reasons += letter.origin + ": " + letter.reason + "\n";
  EXPECT_THAT(reasons, HasSubstr("sink:distrustful"));
  EXPECT_THAT(reasons, HasSubstr("certificate"));
  EXPECT_THAT(reasons, HasSubstr("sink:anonymous"));
  EXPECT_EQ(received().size(), 1U);
}

TEST_F(WebhookTest, BadUrlsAreConfigErrors) {
  for (const auto& [url, why] : std::vector<std::pair<std::string, std::string>>{
           {"http://x/\", caFile: \"ca.pem", "are for an https:// url"},
           {"https://x/\", certFile: \"c.pem", "certFile and keyFile go together"},
           {"https://x/\", caFile: \"/nonexistent.pem", "nonexistent.pem"},
           {"ftp://x/", "'ftp://x/' is not an http:// or https:// URL"},
           {"http://x:99999/", "port must be a number from 1 to 65535"},
           {"http://[::1:8080/", "an IPv6 host goes in brackets"},
           {"http:///a", "no host"}}) {
    auto made = testing::makeNode(
        testing::siteWith("", fmt::format("    - {{name: h, type: webhook, url: \"{}\"}}\n", url)),
        {}, data_.path(), plugins_);
    ASSERT_FALSE(made) << url;
    EXPECT_THAT(made.error().str(), HasSubstr(why));
  }
  // An IPv6 address with a port is a URL like any other (the sink once took "[::1]:9" for a host).
  EXPECT_TRUE(testing::makeNode(
      testing::siteWith("", "    - {name: h, type: webhook, url: \"http://[::1]:9/in\"}\n"), {},
      data_.path(), plugins_));
}

}  // namespace
}  // namespace sie
