// HTTP ingest through the node's real listener, driven by curl.
#include <limits>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "adapters/http_ingest/idempotency.h"
#include "node/node.h"
#include "servers.h"
#include "sie/plugins.h"
#include "state/embedded_store.h"
#include "test_node.h"

namespace sie {
namespace {

using testing::capture;
using ::testing::HasSubstr;
using testing::TempDir;

constexpr const char* kSite = R"(apiVersion: sie/v1
kind: Site
metadata: {name: http-test}
spec:
  http: 127.0.0.1:0
  summaryInterval: 0
)";

class HttpIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    ASSERT_TRUE(registerBuiltinPlugins(plugins_));
    startNode();
  }
  void startNode() {
    auto site = node::parseSite({"t/site.yaml", kSite}, {});
    ASSERT_TRUE(site) << site.error().str();
    site->data_dir = data_.path();
    auto made = node::Node::create(std::move(*site), plugins_);
    ASSERT_TRUE(made) << made.error().str();
    node_ = std::move(*made);
    ASSERT_TRUE(node_->start());
  }
  void TearDown() override {
    if (node_) node_->stop();
  }

  struct Reply {
    int status = 0;
    nlohmann::json body;
    std::string headers;
  };
  // curl with the given arguments; the body is written to a file, so any bytes are fine.
  Reply post(const std::string& args, const std::string& body, const std::string& query = "") {
    const std::string file = data_.file("body");
    std::FILE* f = std::fopen(file.c_str(), "wb");
    std::fwrite(body.data(), 1, body.size(), f);
    std::fclose(f);
    const std::string headers = data_.file("headers");
    const std::string out = capture(fmt::format(
        "curl -s -D {} -w '\\n%{{http_code}}' -X POST 'http://127.0.0.1:{}/api/v1/events{}' {} {} "
        "--data-binary @{}",
        headers, node_->httpPort(), query, testing::adminAuth(data_.path()), args, file));
    Reply reply;
    reply.headers = capture("cat " + headers);
    const std::size_t cut = out.rfind('\n');
    reply.status = std::atoi(out.c_str() + cut + 1);
    reply.body = nlohmann::json::parse(out.substr(0, cut), nullptr, false);
    return reply;
  }

  std::size_t readings(std::string_view sensor) {
    auto got = node_->state().timeSeries().range(Symbol::intern(sensor), 0,
                                                 std::numeric_limits<std::int64_t>::max(), 1000);
    return got ? got->size() : 0;
  }

  TempDir data_;
  Plugins plugins_;
  std::unique_ptr<node::Node> node_;
};

TEST_F(HttpIngestTest, PlainTelemetryIsRecordedBeforeTheAnswer) {
  const Reply r =
      post("-H 'Content-Type: application/json'",
           R"([{"sensor":"h/p1/temp","ts":5,"value":1},{"sensor":"h/p1/temp","ts":6,"value":2}])");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body["accepted"], 2);
  EXPECT_EQ(r.body["rejected"], 0);
  EXPECT_EQ(readings("h/p1/temp"), 2U);  // 202 means recorded
}

TEST_F(HttpIngestTest, StructuredBatchAndBinaryCloudEvents) {
  Reply r = post("-H 'Content-Type: application/cloudevents+json'",
                 R"({"specversion":"1.0","id":"a","source":"dev/1","type":"io.sie.telemetry",)"
                 R"("subject":"h/p2/temp","data":{"ts":1,"value":20}})");
  EXPECT_EQ(r.status, 202);
  r = post(
      "-H 'Content-Type: application/cloudevents-batch+json'",
      R"([{"specversion":"1.0","id":"b","source":"d","type":"t","subject":"h/p2/temp","data":{"ts":2,"value":21}},)"
      R"({"specversion":"1.0","id":"c","source":"d","type":"t","subject":"h/p2/temp","data":{"ts":3,"value":22}}])");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body["accepted"], 2);
  r = post(
      "-H 'ce-specversion: 1.0' -H 'ce-id: d' -H 'ce-source: dev/2' -H 'ce-type: t' "
      "-H 'ce-subject: h/p2/temp' -H 'ce-time: 2026-11-28T10:00:00Z' -H 'Content-Type: "
      "application/json'",
      R"({"value":23})");
  EXPECT_EQ(r.status, 202) << r.body.dump();
  EXPECT_EQ(readings("h/p2/temp"), 4U);
}

// Readings without a timestamp are stamped on arrival: only the key tells a repeat.
TEST_F(HttpIngestTest, ARequestSentAgainWithItsKeyIsAnsweredAgainAndRecordedOnce) {
  const std::string json = "-H 'Content-Type: application/json' ";
  const Reply first =
      post(json + "-H 'Idempotency-Key: \"k-1\"'", R"({"sensor":"h/i1/temp","value":1})");
  ASSERT_EQ(first.status, 202) << first.body.dump();
  EXPECT_THAT(first.headers, ::testing::Not(HasSubstr("Idempotent-Replayed")));
  const Reply again =
      post(json + "-H 'Idempotency-Key: k-1'", R"({"sensor":"h/i1/temp","value":1})");
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.body, first.body);
  EXPECT_THAT(again.headers, HasSubstr("Idempotent-Replayed: true"));
  EXPECT_EQ(readings("h/i1/temp"), 1U);

  const Reply other =
      post(json + "-H 'Idempotency-Key: k-1'", R"({"sensor":"h/i1/temp","value":2})");
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(other.body["error"], "idempotency_key_reused");
  const Reply fresh =
      post(json + "-H 'Idempotency-Key: k-2'", R"({"sensor":"h/i1/temp","value":1})");
  EXPECT_EQ(fresh.status, 202);
  EXPECT_EQ(readings("h/i1/temp"), 2U);

  const Reply bad = post(json + "-H 'Idempotency-Key: " + std::string(256, 'x') + "'",
                         R"({"sensor":"h/i1/temp","value":3})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body["message"].get<std::string>(), HasSubstr("1 to 255 visible ASCII"));
  EXPECT_EQ(readings("h/i1/temp"), 2U);
}

TEST_F(HttpIngestTest, ACloudEventSentTwiceIsRecordedOnce) {
  const std::string binary =
      "-H 'ce-specversion: 1.0' -H 'ce-source: dev/9' -H 'ce-type: t' -H 'ce-subject: h/i2/temp' "
      "-H 'Content-Type: application/json' ";
  EXPECT_EQ(post(binary + "-H 'ce-id: e-1'", R"({"value":1})").status, 202);
  const Reply again = post(binary + "-H 'ce-id: e-1'", R"({"value":1})");
  EXPECT_EQ(again.status, 202);
  EXPECT_THAT(again.headers, HasSubstr("Idempotent-Replayed: true"));
  EXPECT_EQ(post(binary + "-H 'ce-id: e-2'", R"({"value":1})").status, 202);
  EXPECT_EQ(readings("h/i2/temp"), 2U);

  const std::string structured =
      R"({"specversion":"1.0","id":"s-1","source":"dev/9","type":"t","subject":"h/i2/temp",)"
      R"("data":{"value":5}})";
  EXPECT_EQ(post("-H 'Content-Type: application/cloudevents+json'", structured).status, 202);
  EXPECT_EQ(post("-H 'Content-Type: application/cloudevents+json'", structured).status, 202);
  EXPECT_EQ(readings("h/i2/temp"), 3U);
}

TEST_F(HttpIngestTest, AKeyOutlivesARestartOfTheNode) {
  const std::string args = "-H 'Content-Type: application/json' -H 'Idempotency-Key: r-1'";
  ASSERT_EQ(post(args, R"({"sensor":"h/i3/temp","value":1})").status, 202);
  node_->stop();
  node_.reset();
  startNode();
  const Reply again = post(args, R"({"sensor":"h/i3/temp","value":1})");
  EXPECT_EQ(again.status, 202);
  EXPECT_THAT(again.headers, HasSubstr("Idempotent-Replayed: true"));
  EXPECT_EQ(readings("h/i3/temp"), 1U);
}

// The node went down after taking a request and before answering it: the key was kept before
// the readings were handed over, so the repeat is taken again at the first arrival time, marked
// as a redelivery (the gateway then records only what the crash lost).
TEST(IdempotencyKeysTest, ARequestTakenButNotAnsweredIsTakenAgainAtItsFirstArrival) {
  TempDir dir;
  auto state = state::openEmbedded({.data_dir = dir.path()});
  ASSERT_TRUE(state) << state.error().str();
  http::HttpRequest request;
  request.caller = "device-7";
  request.headers["idempotency-key"] = "c-1";
  request.headers["content-type"] = "application/json";
  request.body = R"({"sensor":"h/i4/temp","value":1})";
  const auto key = node::IdempotencyKeys::keyOf(request, "", "");
  ASSERT_TRUE(key);
  {
    node::IdempotencyKeys keys((*state)->kv());
    std::optional<node::IdempotencyKeys::Hold> hold;
    auto earlier = keys.begin(request, *key, hold);
    ASSERT_TRUE(earlier && !*earlier && hold);
    EXPECT_FALSE(hold->firstArrival());
    ASSERT_TRUE(hold->start(1'700'000'000'000'000'000));
  }  // no answer recorded: the node went down
  node::IdempotencyKeys keys((*state)->kv());
  std::optional<node::IdempotencyKeys::Hold> hold;
  auto again = keys.begin(request, *key, hold);
  ASSERT_TRUE(again && !*again && hold);
  EXPECT_EQ(hold->firstArrival(), std::optional<std::int64_t>(1'700'000'000'000'000'000));
  ASSERT_TRUE(hold->start(1'800'000'000'000'000'000));  // its first arrival time is kept
  ASSERT_TRUE(hold->record({202, "application/json", R"({"accepted":1,"rejected":0})", {}}));
  hold.reset();
  auto replay = keys.begin(request, *key, hold);
  ASSERT_TRUE(replay && *replay);
  EXPECT_EQ((*replay)->status, 202);
  EXPECT_EQ((*replay)->headers.at("Idempotent-Replayed"), "true");
  request.caller = "device-8";  // another caller's key of the same name is its own
  auto other = keys.begin(request, *key, hold);
  ASSERT_TRUE(other && !*other && hold);
  EXPECT_FALSE(hold->firstArrival());
}

TEST_F(HttpIngestTest, PlainNumberNamesItsSensorInTheQuery) {
  const Reply r = post("-H 'Content-Type: text/plain'", "42.5", "?sensor=h/p3/temp");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(readings("h/p3/temp"), 1U);
}

TEST_F(HttpIngestTest, BadInputGetsSpecificErrors) {
  Reply r = post("-H 'Content-Type: application/json'", R"({"sensor":"h/p4/temp","value":)");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("not valid JSON at byte"));
  r = post("-H 'Content-Type: application/cloudevents+json'",
           R"({"sensor":"h/p4/temp","ts":1,"value":1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("not a CloudEvent"));
  r = post("-H 'Content-Type: application/cloudevents+json'",
           R"({"specversion":"1.0","source":"d","type":"t","data":{"ts":1,"value":1}})");
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("has no 'id'"));
  r = post(
      "-H 'ce-specversion: 1.0' -H 'ce-id: x' -H 'ce-source: d' -H 'ce-type: t' "
      "-H 'Content-Type: application/cbor'",
      "\xA1\x65value\x01");
  EXPECT_EQ(r.status, 415);
  r = post("-H 'Content-Type: text/csv'", "a,b");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body["message"].get<std::string>(),
              HasSubstr("unsupported content type 'text/csv'"));
  // Half good, half bad: the good half is kept and the answer lists what was refused.
  r = post("-H 'Content-Type: application/json'",
           R"([{"sensor":"h/p5/temp","ts":1,"value":1},{"sensor":"h/p5/temp","ts":1,"value":2}])");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body["accepted"], 1);
  EXPECT_EQ(r.body["errors"][0], "duplicate timestamp");
  // Everything refused is in the dead-letter store with its reason.
  auto letters = node_->state().deadLetters().list(100);
  ASSERT_TRUE(letters);
  EXPECT_EQ(letters->size(), 5U);
}

TEST_F(HttpIngestTest, OversizeBodiesAndWrongMethods) {
  const Reply r = post("-H 'Content-Type: application/json'", std::string(2 << 20, ' '));
  EXPECT_EQ(r.status, 413);
  const std::string out = capture(fmt::format(
      "curl -s -o /dev/null -w '%{{http_code}}' {} -X DELETE http://127.0.0.1:{}/api/v1/events",
      testing::adminAuth(data_.path()), node_->httpPort()));
  EXPECT_EQ(out, "405");
}

}  // namespace
}  // namespace sie
