#include "gateway/gateway.h"

#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.h"
#include "sie/metrics.h"

namespace sie::gateway {
namespace {

using ::testing::ElementsAre;
using testing::FakeClock;
using ::testing::HasSubstr;
using testing::kNow;
using ::testing::MatchesRegex;
using testing::MemoryDeadLetters;
using testing::MemorySeries;
using testing::RecordingDownstream;

constexpr std::int64_t kSecond = 1'000'000'000;

std::uint64_t counterValue(std::string_view name, const Labels& labels = {}) {
  return metrics().counter(name, "", labels).value();
}

std::uint64_t rejected(std::string_view reason) {
  return counterValue("sie_gateway_rejected_total", {{"reason", std::string(reason)}});
}

std::string reading(std::string_view sensor, std::int64_t ts, double value) {
  return fmt::format(R"({{"sensor":"{}","ts":{},"value":{}}})", sensor, ts, value);
}

class GatewayTest : public ::testing::Test {
 protected:
  void start(const std::string& yaml) {
    const YAML::Node root = YAML::Load(yaml);
    auto config = parseGatewayConfig(root["gateway"], root["routes"], "test.yaml");
    ASSERT_TRUE(config) << config.error().str();
    gateway_ = std::make_unique<Gateway>(
        std::move(*config), series_, dead_, nullptr, [] { return ok(); }, router_, downstream_,
        clock_);
  }

  void trigger(std::string_view pattern, std::uint32_t target) {
    triggers_.push_back(Trigger{*TopicPattern::parse(pattern), target});
    router_.setTriggers(triggers_);
  }

  Status raw(std::string_view payload, std::string_view topic = "",
             std::string_view content_type = "application/json") {
    return gateway_->ingestRaw(RawMessage{topic, payload, content_type, "mqtt"});
  }

  FakeClock clock_;
  MemorySeries series_;
  MemoryDeadLetters dead_;
  Router router_;
  RecordingDownstream downstream_;
  std::vector<Trigger> triggers_;
  std::unique_ptr<Gateway> gateway_;
};

constexpr const char* kGridRoutes = R"(
routes:
  - match: "grid/+/voltage"
    validate: {min: 180, max: 280, maxAge: 60s, maxFuture: 5s}
  - match: "grid/+/flagged"
    validate: {min: 0, max: 10, maxAge: 60s, onInvalid: flag}
)";

TEST_F(GatewayTest, AcceptedReadingIsRecordedAndRouted) {
  start(kGridRoutes);
  trigger("grid/#", 5);
  trigger("grid/feeder1/+", 6);
  const auto received = counterValue("sie_gateway_received_total", {{"source", "mqtt"}});
  const auto routed = counterValue("sie_gateway_routed_total");
  clock_.mono_ns = 777;
  ASSERT_TRUE(raw(reading("grid/feeder1/voltage", kNow, 230.1)));

  ASSERT_EQ(series_.readings.size(), 1U);
  EXPECT_EQ(series_.readings[0].value(), 230.1);
  ASSERT_EQ(downstream_.events.size(), 1U);
  const Event& event = downstream_.events[0];
  EXPECT_THAT(event.id, MatchesRegex("mqtt-[0-9a-f]{8}-1"));
  EXPECT_EQ(event.source, "sie://mqtt");
  EXPECT_EQ(event.type, kTelemetryType);
  EXPECT_EQ(event.subject, "grid/feeder1/voltage");
  EXPECT_EQ(event.time_ns, kNow);
  EXPECT_EQ(event.ingest_ns, 777);
  ASSERT_TRUE(event.telemetry);
  EXPECT_EQ(event.telemetry->value(), 230.1);
  EXPECT_THAT(downstream_.target_lists[0], ElementsAre(5, 6));
  EXPECT_TRUE(dead_.letters.empty());
  EXPECT_EQ(counterValue("sie_gateway_received_total", {{"source", "mqtt"}}), received + 1);
  EXPECT_EQ(counterValue("sie_gateway_routed_total"), routed + 1);

  const std::string first_id = event.id;  // `event` dangles once events grow
  ASSERT_TRUE(raw(reading("grid/feeder1/voltage", kNow + 1, 231)));
  EXPECT_EQ(downstream_.events.at(1).id, first_id.substr(0, first_id.size() - 1) + "2");
}

TEST_F(GatewayTest, ReadingWithoutTargetsIsOnlyRecorded) {
  start(kGridRoutes);
  trigger("other/#", 1);
  ASSERT_TRUE(raw(reading("grid/f2/voltage", kNow, 230)));
  EXPECT_EQ(series_.readings.size(), 1U);
  EXPECT_TRUE(downstream_.events.empty());
}

TEST_F(GatewayTest, InvalidReadingsAreDeadLetteredWithTheirReason) {
  start(kGridRoutes);
  trigger("#", 1);
  const auto range = rejected("range");
  const auto stale = rejected("stale");
  const auto future = rejected("future");
  ASSERT_TRUE(raw(reading("grid/f3/voltage", kNow, 300)));
  ASSERT_TRUE(raw(reading("grid/f3/voltage", kNow - 61 * kSecond, 230)));
  ASSERT_TRUE(raw(reading("grid/f3/voltage", kNow + 6 * kSecond, 230)));
  EXPECT_TRUE(series_.readings.empty());
  EXPECT_TRUE(downstream_.events.empty());
  ASSERT_EQ(dead_.letters.size(), 3U);
  const DeadLetter& letter = dead_.letters[0];
  EXPECT_EQ(letter.origin, "gateway");
  EXPECT_EQ(letter.reason, "value 300 out of range [180, 280]");
  EXPECT_EQ(letter.subject, "grid/f3/voltage");
  EXPECT_EQ(letter.ts_ns, kNow);
  EXPECT_EQ(
      letter.payload,
      fmt::format(R"({{"sensor":"grid/f3/voltage","ts":{},"value":300,"quality":"good"}})", kNow));
  EXPECT_EQ(dead_.letters[1].reason, "stale timestamp: 61s old (maxAge 60s)");
  EXPECT_EQ(dead_.letters[2].reason, "timestamp 6s in the future (maxFuture 5s)");
  EXPECT_EQ(rejected("range"), range + 1);
  EXPECT_EQ(rejected("stale"), stale + 1);
  EXPECT_EQ(rejected("future"), future + 1);
}

TEST_F(GatewayTest, FlaggedReadingsContinueWithLowerQuality) {
  start(kGridRoutes);
  trigger("#", 1);
  const auto flagged = counterValue("sie_gateway_flagged_total", {{"reason", "range"}});
  ASSERT_TRUE(raw(reading("grid/f1/flagged", kNow, 11)));
  ASSERT_TRUE(raw(reading("grid/f1/flagged", kNow - 70 * kSecond + 1, 5)));  // stale, but
  EXPECT_EQ(dead_.letters.size(), 1U);  // ... out of order: always rejected
  EXPECT_EQ(dead_.letters[0].reason,
            fmt::format("out-of-order timestamp ({} < last {})", kNow - 70 * kSecond + 1, kNow));
  ASSERT_EQ(series_.readings.size(), 1U);
  EXPECT_EQ(series_.readings[0].quality, Quality::kBad);
  EXPECT_EQ(series_.readings[0].flag, "value 11 out of range [0, 10]");
  ASSERT_EQ(downstream_.events.size(), 1U);
  EXPECT_EQ(downstream_.events[0].telemetry->flag, "value 11 out of range [0, 10]");
  EXPECT_EQ(counterValue("sie_gateway_flagged_total", {{"reason", "range"}}), flagged + 1);
}

TEST_F(GatewayTest, DuplicatesAndNonFiniteValuesAreRejected) {
  start("");
  const auto duplicate = rejected("duplicate");
  const auto nan = rejected("nan");
  ASSERT_TRUE(raw(reading("any/sensor", 100, 1)));
  ASSERT_TRUE(raw(reading("any/sensor", 100, 2)));
  ASSERT_TRUE(raw(R"({"sensor":"any/sensor","ts":101,"value":"NaN"})"));
  ASSERT_TRUE(raw(reading("any/sensor", 101, 3)));  // the NaN did not advance the sensor
  EXPECT_EQ(series_.readings.size(), 2U);
  ASSERT_EQ(dead_.letters.size(), 2U);
  EXPECT_EQ(dead_.letters[0].reason, "duplicate timestamp");
  EXPECT_EQ(dead_.letters[1].reason, "value is not finite (nan)");
  EXPECT_EQ(dead_.letters[1].payload,
            R"({"sensor":"any/sensor","ts":101,"value":"NaN","quality":"good"})");
  EXPECT_EQ(rejected("duplicate"), duplicate + 1);
  EXPECT_EQ(rejected("nan"), nan + 1);
}

TEST_F(GatewayTest, OrderCheckContinuesFromTheStore) {
  // A reading stored before a restart: a redelivered copy must not be recorded again.
  series_.readings.push_back(Telemetry{Symbol::intern("restarted/sensor"), 100, {1}});
  start("");
  ASSERT_TRUE(raw(reading("restarted/sensor", 100, 1)));
  ASSERT_TRUE(raw(reading("restarted/sensor", 90, 1)));
  ASSERT_TRUE(raw(reading("restarted/sensor", 101, 1)));
  EXPECT_EQ(series_.readings.size(), 2U);
  ASSERT_EQ(dead_.letters.size(), 2U);
  EXPECT_EQ(dead_.letters[0].reason, "duplicate timestamp");
  EXPECT_EQ(dead_.letters[1].reason, "out-of-order timestamp (90 < last 100)");
}

// A broker's redelivery comes with the arrival time it had the first time: readings already
// recorded are skipped without a dead letter, and one a crash lost is recorded then.
TEST_F(GatewayTest, ARedeliveredMessageRecordsOnlyWhatWasNotRecorded) {
  start("");
  trigger("plant/#", 1);
  RawMessage first{"plant/p1/temp", "20.5", "text/plain", "mqtt"};
  first.received_ns = 100;
  ASSERT_TRUE(gateway_->ingestRaw(first));
  RawMessage again = first;
  again.redelivered = true;
  ASSERT_TRUE(gateway_->ingestRaw(again));
  EXPECT_EQ(series_.readings.size(), 1U);
  EXPECT_TRUE(dead_.letters.empty());
  EXPECT_EQ(downstream_.events.size(), 1U);  // not decided again either

  RawMessage lost{"plant/p1/temp", "21.5", "text/plain", "mqtt"};
  lost.received_ns = 200;
  lost.redelivered = true;  // taken before a crash that lost its reading
  ASSERT_TRUE(gateway_->ingestRaw(lost));
  ASSERT_EQ(series_.readings.size(), 2U);
  EXPECT_EQ(series_.readings[1].ts_ns, 200);
  EXPECT_EQ(downstream_.events.size(), 2U);
}

TEST_F(GatewayTest, SourcesRejectWhatTheyDecodedThemselves) {
  start("");
  const auto parse = rejected("parse");
  ASSERT_TRUE(gateway_->reject(RawMessage{"spBv1.0/g/NDATA/n", "\x08\x01", "", "sparkplug"},
                               "unknown metric alias 7"));
  ASSERT_EQ(dead_.letters.size(), 1U);
  EXPECT_EQ(dead_.letters[0].reason, "unknown metric alias 7");
  EXPECT_EQ(dead_.letters[0].subject, "spBv1.0/g/NDATA/n");
  EXPECT_EQ(dead_.letters[0].payload, "\x08\x01");
  EXPECT_EQ(rejected("parse"), parse + 1);
}

TEST_F(GatewayTest, UnmatchedReadingsCanBeRejected) {
  start("gateway: {unmatched: reject}\nroutes:\n  - match: known/#\n");
  const auto unknown = rejected("unknown_sensor");
  ASSERT_TRUE(raw(reading("known/a", 1, 1)));
  ASSERT_TRUE(raw(reading("stranger/a", 1, 1)));
  EXPECT_EQ(series_.readings.size(), 1U);
  ASSERT_EQ(dead_.letters.size(), 1U);
  EXPECT_EQ(dead_.letters[0].reason, "unknown sensor 'stranger/a': no route matches");
  EXPECT_EQ(rejected("unknown_sensor"), unknown + 1);
}

TEST_F(GatewayTest, UndecodablePayloadsAreDeadLetteredRaw) {
  start("gateway: {maxPayloadBytes: 1048576}\n");
  const auto parse = rejected("parse");
  const auto oversize = rejected("oversize");
  ASSERT_TRUE(raw(R"({"sensor":"s","ts":1,,})", "plant/topic"));
  ASSERT_TRUE(raw(std::string(2'000'000, ' '), "plant/big"));
  ASSERT_EQ(dead_.letters.size(), 2U);
  EXPECT_EQ(dead_.letters[0].reason, "payload is not valid JSON at byte 21: expected a string key");
  EXPECT_EQ(dead_.letters[0].subject, "plant/topic");
  EXPECT_EQ(dead_.letters[0].payload, R"({"sensor":"s","ts":1,,})");
  EXPECT_EQ(dead_.letters[1].reason, "payload of 2000000 bytes exceeds the 1048576-byte limit");
  EXPECT_EQ(dead_.letters[1].payload.size(), 1024U);
  EXPECT_EQ(rejected("parse"), parse + 1);
  EXPECT_EQ(rejected("oversize"), oversize + 1);
}

TEST_F(GatewayTest, BatchElementsAreJudgedOneByOne) {
  start("");
  trigger("#", 1);
  const auto received = counterValue("sie_gateway_received_total", {{"source", "mqtt"}});
  ASSERT_TRUE(raw(R"([{"sensor":"b/1","ts":1,"value":1},{"sensor":"b/2","ts":1,"value":true},)"
                  R"({"sensor":"b/3","ts":1,"value":3}])"));
  EXPECT_EQ(series_.readings.size(), 2U);
  EXPECT_EQ(downstream_.events.size(), 2U);
  ASSERT_EQ(dead_.letters.size(), 1U);
  EXPECT_EQ(dead_.letters[0].reason, "batch element 1: 'value' must be a number (got boolean)");
  EXPECT_EQ(dead_.letters[0].payload, R"({"sensor":"b/2","ts":1,"value":true})");
  EXPECT_EQ(counterValue("sie_gateway_received_total", {{"source", "mqtt"}}), received + 3);
}

TEST_F(GatewayTest, FilteredReadingsAreRecordedButNotRouted) {
  start("routes:\n  - match: f/#\n    filters:\n      - {type: deadband, delta: 1}\n");
  trigger("#", 1);
  const auto filtered = counterValue("sie_gateway_filtered_total", {{"filter", "deadband"}});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(raw(reading("f/a", i + 1, 10.0 + 0.4 * i)));
  EXPECT_EQ(series_.readings.size(), 5U);    // raw history is complete
  ASSERT_EQ(downstream_.events.size(), 2U);  // 10.0 and 11.2
  EXPECT_DOUBLE_EQ(downstream_.events[1].telemetry->value(), 11.2);
  EXPECT_EQ(counterValue("sie_gateway_filtered_total", {{"filter", "deadband"}}), filtered + 3);
}

TEST_F(GatewayTest, BlocksPassFiltersUnchanged) {
  start("routes:\n  - match: v/#\n    filters:\n      - {type: deadband, delta: 100}\n");
  trigger("#", 1);
  ASSERT_TRUE(raw(R"({"sensor":"v/p","ts":1,"values":[1,2],"period_ns":10})"));
  ASSERT_TRUE(raw(R"({"sensor":"v/p","ts":100,"values":[1,2],"period_ns":10})"));
  EXPECT_EQ(downstream_.events.size(), 2U);
  EXPECT_EQ(downstream_.events[1].telemetry->values, (std::vector<double>{1, 2}));
  // The block covered 100..110: a reading at 105 is out of order.
  ASSERT_TRUE(raw(reading("v/p", 105, 1)));
  ASSERT_EQ(dead_.letters.size(), 1U);
  EXPECT_EQ(dead_.letters[0].reason, "out-of-order timestamp (105 < last 110)");
}

TEST_F(GatewayTest, RefusedDeliveryIsDeadLettered) {
  start("");
  trigger("#", 1);
  downstream_.refuse = true;
  const auto refused = rejected("downstream");
  ASSERT_TRUE(raw(reading("d/a", 1, 1)));
  EXPECT_EQ(series_.readings.size(), 1U);
  ASSERT_EQ(dead_.letters.size(), 1U);
  EXPECT_EQ(dead_.letters[0].reason, "downstream refused the event: queue full");
  EXPECT_EQ(rejected("downstream"), refused + 1);

  dead_.broken = true;
  auto status = raw(reading("d/a", 2, 1));
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, Errc::kIo);
  EXPECT_THAT(status.error().message, HasSubstr("downstream refused the event: queue full"));
  EXPECT_THAT(status.error().message, HasSubstr("dead-letter store offline"));
}

TEST_F(GatewayTest, StoreFailureDeadLettersWithoutAdvancingTheSensor) {
  start("");
  series_.fail_next = true;
  ASSERT_TRUE(raw(reading("st/a", 5, 1)));
  ASSERT_EQ(dead_.letters.size(), 1U);
  EXPECT_EQ(dead_.letters[0].reason, "time-series store refused the reading: disk full");
  ASSERT_TRUE(raw(reading("st/a", 5, 1)));  // a redelivery is not a duplicate
  EXPECT_EQ(series_.readings.size(), 1U);
  EXPECT_EQ(dead_.letters.size(), 1U);
}

TEST_F(GatewayTest, CloudEventEnvelopeReachesTheEvent) {
  start("");
  trigger("#", 3);
  ASSERT_TRUE(raw(R"({"specversion":"1.0","id":"evt-9","source":"urn:gw","type":"com.acme.r",)"
                  R"("subject":"ce/s1","datacontenttype":"application/json",)"
                  R"("time":"2025-11-28T03:20:00Z","data":{"value":4}})",
                  "", "application/cloudevents+json"));
  ASSERT_EQ(downstream_.events.size(), 1U);
  const Event& event = downstream_.events[0];
  EXPECT_EQ(event.id, "evt-9");
  EXPECT_EQ(event.source, "urn:gw");
  EXPECT_EQ(event.type, "com.acme.r");
  EXPECT_EQ(event.subject, "ce/s1");
  EXPECT_EQ(event.datacontenttype, "application/json");
  EXPECT_EQ(event.time_ns, kNow);
}

TEST_F(GatewayTest, CborPayloads) {
  start("");
  trigger("#", 1);
  // {"sensor":"cb/1","ts":1,"value":2.5} as CBOR (value a double)
  const std::string cbor = std::string(
      "\xA3\x66sensor\x64"
      "cb/1\x62ts\x01\x65value\xFB\x40\x04\x00\x00\x00\x00\x00\x00",
      32);
  ASSERT_TRUE(raw(cbor, "", "application/cbor"));
  ASSERT_EQ(downstream_.events.size(), 1U);
  EXPECT_EQ(downstream_.events[0].telemetry->value(), 2.5);
}

TEST_F(GatewayTest, DecodedReadingsSkipTheDecoder) {
  start("routes:\n  - match: sim/#\n    validate: {max: 100}\n");
  trigger("sim/#", 2);
  Telemetry t;
  t.sensor = Symbol::intern("sim/pump1/temp");
  t.ts_ns = kNow;
  t.values = {42};
  ASSERT_TRUE(gateway_->ingest(t, "plant"));
  ASSERT_EQ(downstream_.events.size(), 1U);
  EXPECT_THAT(downstream_.events[0].id, MatchesRegex("plant-[0-9a-f]{8}-1"));
  EXPECT_EQ(downstream_.events[0].source, "sie://plant");
  t.ts_ns += 1;
  t.values = {101};
  ASSERT_TRUE(gateway_->ingest(t, "plant"));
  t.values.clear();
  ASSERT_TRUE(gateway_->ingest(t, "plant"));
  ASSERT_EQ(dead_.letters.size(), 2U);
  EXPECT_EQ(dead_.letters[0].reason, "value 101 out of range [-inf, 100]");
  EXPECT_EQ(dead_.letters[1].reason, "reading has no values");
}

// sie_sensors_not_good counts, per source, the sensors whose newest reading is not good: a stale
// or flagged reading counts its sensor once, a good one after it takes the sensor back out.
TEST_F(GatewayTest, SensorsWhoseNewestReadingIsNotGoodAreCountedPerSource) {
  start("");
  const Gauge& not_good = metrics().gauge("sie_sensors_not_good", "", {{"source", "quality-src"}});
  const double before = not_good.value();
  Telemetry t;
  t.sensor = Symbol::intern("quality/pump1/temp");
  t.ts_ns = kNow;
  t.values = {40};
  const auto send = [&](Quality quality) {
    t.ts_ns += 1;
    t.quality = quality;
    ASSERT_TRUE(gateway_->ingest(t, "quality-src"));
  };
  send(Quality::kGood);
  EXPECT_EQ(not_good.value() - before, 0);
  send(Quality::kBad);
  EXPECT_EQ(not_good.value() - before, 1);
  send(Quality::kUncertain);  // still not good: counted once
  EXPECT_EQ(not_good.value() - before, 1);
  Telemetry other = t;
  other.sensor = Symbol::intern("quality/pump2/temp");
  other.quality = Quality::kBad;
  ASSERT_TRUE(gateway_->ingest(other, "quality-src"));
  EXPECT_EQ(not_good.value() - before, 2);
  send(Quality::kGood);
  EXPECT_EQ(not_good.value() - before, 1);
}

TEST_F(GatewayTest, StageHistogramsSampleOneMessageInSixteen) {
  start("");
  Histogram& decode = metrics().histogram("sie_gateway_stage_seconds", "", {{"stage", "decode"}});
  Histogram& pipeline =
      metrics().histogram("sie_gateway_stage_seconds", "", {{"stage", "pipeline"}});
  const auto decodes = decode.count();
  const auto pipelines = pipeline.count();
  for (int i = 1; i <= 16; ++i) ASSERT_TRUE(raw(reading("h/a", i, 1)));
  EXPECT_EQ(decode.count(), decodes + 1);
  EXPECT_EQ(pipeline.count(), pipelines + 1);
}

TEST_F(GatewayTest, TwoThreadsIngestDistinctSensors) {
  start("routes:\n  - match: conc/#\n    filters:\n      - {type: deadband, delta: 0.5}\n");
  trigger("conc/#", 1);
  constexpr int kPerThread = 2000;
  auto feed = [&](int thread) {
    for (int i = 0; i < kPerThread; ++i) {
      const std::string sensor = fmt::format("conc/t{}/s{}", thread, i % 10);
      ASSERT_TRUE(raw(reading(sensor, i + 1, i)));
    }
  };
  std::thread a(feed, 0);
  std::thread b(feed, 1);
  a.join();
  b.join();
  EXPECT_EQ(series_.snapshot().size(), 2U * kPerThread);
  EXPECT_EQ(downstream_.events.size(), 2U * kPerThread);
  EXPECT_TRUE(dead_.letters.empty());
}

}  // namespace
}  // namespace sie::gateway
