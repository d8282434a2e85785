#include "gateway/json_decoder.h"

#include <cmath>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway/payload_decoder.h"

namespace sie::gateway {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<Decoded> decodeOk(std::string_view payload, std::string_view topic = "",
                              JsonFlavor flavor = JsonFlavor::kAny) {
  std::vector<Decoded> out;
  auto status = decodeJson(payload, topic, flavor, out);
  EXPECT_TRUE(status) << status.error().str();
  return out;
}

// The error of a single-object payload.
std::string objectError(std::string_view payload, std::string_view topic = "",
                        JsonFlavor flavor = JsonFlavor::kAny) {
  auto out = decodeOk(payload, topic, flavor);
  if (out.size() != 1 || !out[0].error) return "no error";
  return out[0].error->message;
}

std::string payloadError(std::string_view payload) {
  std::vector<Decoded> out;
  auto status = decodeJson(payload, {}, JsonFlavor::kAny, out);
  EXPECT_TRUE(out.empty());
  return status ? "no error" : status.error().message;
}

TEST(GatewayJsonDecoderTest, PlainTelemetry) {
  auto out =
      decodeOk(R"({"sensor":"grid/feeder1/voltage","ts":1764300000000000000,"value":230.1})");
  ASSERT_EQ(out.size(), 1U);
  ASSERT_FALSE(out[0].error);
  const Telemetry& r = out[0].reading;
  EXPECT_EQ(r.sensor.str(), "grid/feeder1/voltage");
  EXPECT_EQ(r.ts_ns, 1764300000000000000);
  EXPECT_EQ(r.values, std::vector<double>{230.1});
  EXPECT_EQ(r.quality, Quality::kGood);
  EXPECT_EQ(r.sample_period_ns, 0);
  EXPECT_FALSE(out[0].cloud_event);
}

TEST(GatewayJsonDecoderTest, TimestampSpellings) {
  auto ms = decodeOk(R"({"sensor":"s","ts_ms":1764300000123,"value":1})");
  EXPECT_EQ(ms[0].reading.ts_ns, 1764300000123000000);
  auto rfc = decodeOk(R"({"sensor":"s","time":"2025-11-28T03:20:00.5Z","value":1})");
  EXPECT_EQ(rfc[0].reading.ts_ns, 1764300000500000000);
  auto offset = decodeOk(R"({"sensor":"s","time":"2025-11-28T04:20:00+01:00","value":1})");
  EXPECT_EQ(offset[0].reading.ts_ns, 1764300000000000000);
}

TEST(GatewayJsonDecoderTest, BlockQualityAndIntegers) {
  auto out = decodeOk(
      R"({"sensor":"rotating/pump1/vibration","ts":10,"values":[1,-2,3.5],"period_ns":250,)"
      R"("quality":"uncertain","extra":{"ignored":[1,2]}})");
  const Telemetry& r = out[0].reading;
  EXPECT_EQ(r.values, (std::vector<double>{1, -2, 3.5}));
  EXPECT_EQ(r.sample_period_ns, 250);
  EXPECT_EQ(r.quality, Quality::kUncertain);
}

TEST(GatewayJsonDecoderTest, TopicIsTheDefaultSensor) {
  auto out = decodeOk(R"({"ts":1,"value":2})", "plant/line1/temp");
  EXPECT_EQ(out[0].reading.sensor.str(), "plant/line1/temp");
  EXPECT_EQ(objectError(R"({"ts":1,"value":2})"),
            "no sensor id: set 'sensor' or publish on a topic");
}

TEST(GatewayJsonDecoderTest, NonFiniteSpellingsDecodeForValidationToReject) {
  auto out = decodeOk(R"({"sensor":"s","ts":1,"value":"NaN"})");
  EXPECT_TRUE(std::isnan(out[0].reading.value()));
  out = decodeOk(R"({"sensor":"s","ts":1,"values":["Infinity","-Infinity"],"period_ns":1})");
  EXPECT_EQ(out[0].reading.values[0], INFINITY);
  EXPECT_EQ(out[0].reading.values[1], -INFINITY);
  EXPECT_EQ(payloadError(R"({"sensor":"s","ts":1,"value":1e999})"),
            "payload is not valid JSON at byte 29: number out of range");
}

TEST(GatewayJsonDecoderTest, TypeErrors) {
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1,"value":"230"})"),
            "'value' must be a number (got string)");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1,"value":null})"),
            "'value' must be a number (got null)");
  EXPECT_EQ(objectError(R"({"sensor":7,"ts":1,"value":1})"),
            "'sensor' must be a string (got number)");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1.5,"value":1})"),
            "'ts' must be an integer (got 1.5)");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":"now","value":1})"),
            "'ts' must be an integer (got string)");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":18446744073709551615,"value":1})"),
            "'ts' out of range (got 18446744073709551615)");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts_ms":9223372036854775807,"value":1})"),
            "'ts_ms' out of range (got 9223372036854775807)");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1,"values":{"a":1}})"),
            "'values' must be an array (got object)");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1,"values":[1,"x"],"period_ns":1})"),
            "'values'[1] must be a number (got string)");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1,"value":1,"quality":"meh"})"),
            "'quality' must be good, uncertain or bad (got 'meh')");
  EXPECT_EQ(objectError(R"({"sensor":"s","time":"yesterday","value":1})"),
            "'time' is not an RFC 3339 timestamp (got 'yesterday')");
}

TEST(GatewayJsonDecoderTest, MissingAndConflictingFields) {
  EXPECT_THAT(objectError(R"({"sensor":"s","value":1})"), StartsWith("ts missing"));
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1})"), "value missing: set 'value' or 'values'");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1,"ts_ms":1,"value":1})"),
            "set only one of 'ts', 'ts_ms' and 'time'");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1,"value":1,"values":[1]})"),
            "set 'value' or 'values', not both");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1,"values":[]})"), "'values' is empty");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1,"values":[1,2]})"),
            "'period_ns' is required with several 'values'");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1,"values":[1,2],"period_ns":0})"),
            "'period_ns' must be > 0 (got 0)");
  EXPECT_EQ(objectError(R"({"sensor":"a/+/b","ts":1,"value":1})"),
            "sensor id 'a/+/b' must not contain '+' or '#'");
  EXPECT_EQ(objectError(R"({"sensor":"a\nb","ts":1,"value":1})"),
            "sensor id must not contain control characters");
}

TEST(GatewayJsonDecoderTest, ForbiddenSensorBytesAtEveryPosition) {
  for (std::size_t at = 0; at < 20; ++at) {
    for (const char bad : {'+', '#', '\x01', '\x1F', '\x7F'}) {
      Telemetry reading;
      reading.values = {1};
      std::string id(20, 'a');
      id[at] = bad;
      TelemetryFields fields;
      fields.sensor = id;
      fields.ts = 1;
      fields.has_value = true;
      EXPECT_FALSE(finishTelemetry(fields, Fallbacks{}, reading)) << at << " " << int{bad};
    }
  }
  Telemetry reading;
  reading.values = {1};
  TelemetryFields fields;
  fields.sensor = "caf\xC3\xA9/\xE2\x82\xAC/x y,z=1";  // multi-byte UTF-8 and punctuation
  fields.ts = 1;
  fields.has_value = true;
  EXPECT_TRUE(finishTelemetry(fields, Fallbacks{}, reading));
}

TEST(GatewayJsonDecoderTest, MalformedJsonNamesTheByte) {
  EXPECT_EQ(payloadError(R"({"sensor":"a","ts":1,,"value":2})"),
            "payload is not valid JSON at byte 21: expected a string key");
  EXPECT_EQ(payloadError(R"({"sensor":"a")"),
            "payload is not valid JSON at byte 13: unexpected end (expected ',' or '}')");
  EXPECT_EQ(payloadError(R"({"sensor" "a"})"),
            "payload is not valid JSON at byte 10: expected ':'");
  EXPECT_EQ(payloadError(R"({"sensor":tru})"),
            "payload is not valid JSON at byte 10: invalid literal");
  EXPECT_EQ(payloadError(R"({"a":1} x)"),
            "payload is not valid JSON at byte 8: unexpected content after the JSON value");
  EXPECT_EQ(payloadError("{\"s\":\"\xC3\x28\"}"),
            "payload is not valid JSON at byte 6: invalid UTF-8");
  EXPECT_EQ(payloadError(R"({"s":"\q"})"), "payload is not valid JSON at byte 6: invalid escape");
  EXPECT_EQ(payloadError(R"({"s":01})"),
            "payload is not valid JSON at byte 6: expected ',' or '}'");
  EXPECT_EQ(payloadError("\x01\x02garbage"),
            "payload is not valid JSON at byte 0: expected a value");
  EXPECT_EQ(payloadError(R"({"s":"\uDC00"})"),
            "payload is not valid JSON at byte 6: unpaired UTF-16 surrogate");
  EXPECT_EQ(payloadError(R"({"n":18446744073709551616})"),
            "payload is not valid JSON at byte 5: integer out of 64-bit range");
  EXPECT_EQ(payloadError(R"({"n":-9223372036854775809})"),
            "payload is not valid JSON at byte 5: integer out of 64-bit range");
}

TEST(GatewayJsonDecoderTest, DeeplyNestedGarbage) {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_EQ(payloadError(deep), "payload is not valid JSON at byte 64: nested too deeply");
  const std::string unbalanced = std::string(5000, '{');
  EXPECT_THAT(payloadError(unbalanced), StartsWith("payload is not valid JSON at byte "));
  // Deep but within the limit, inside an ignored key: fine.
  const std::string nested =
      R"({"sensor":"s","ts":1,"value":1,"x":)" + std::string(20, '[') + std::string(20, ']') + "}";
  EXPECT_FALSE(decodeOk(nested)[0].error);
}

TEST(GatewayJsonDecoderTest, NotAnObject) {
  EXPECT_EQ(payloadError("42"),
            "payload must be a JSON object or an array of objects (got number)");
  EXPECT_EQ(payloadError(R"("text")"),
            "payload must be a JSON object or an array of objects (got string)");
}

TEST(GatewayJsonDecoderTest, BatchDecodesEachElement) {
  auto out = decodeOk(R"([{"sensor":"a","ts":1,"value":1},)"
                      R"({"sensor":"b","ts":2,"value":"x"}, 5,)"
                      R"({"sensor":"c","ts":3,"value":3}])");
  ASSERT_EQ(out.size(), 4U);
  EXPECT_FALSE(out[0].error);
  ASSERT_TRUE(out[1].error);
  EXPECT_EQ(out[1].error->message, "batch element 1: 'value' must be a number (got string)");
  EXPECT_EQ(out[1].raw, R"({"sensor":"b","ts":2,"value":"x"})");
  ASSERT_TRUE(out[2].error);
  EXPECT_EQ(out[2].error->message, "batch element 2: expected an object (got number)");
  EXPECT_FALSE(out[3].error);
  EXPECT_EQ(out[3].reading.sensor.str(), "c");
  EXPECT_TRUE(decodeOk("[]").empty());
}

TEST(GatewayJsonDecoderTest, LargeBatchThenSmallPayload) {
  std::string batch = "[";
  for (int i = 0; i < 3000; ++i) {
    batch += (i ? "," : "") + std::string(R"({"sensor":"big/s","ts":)") + std::to_string(i + 1) +
             R"(,"value":1.5})";
  }
  batch += "]";
  ASSERT_GT(batch.size(), 64U * 1024);
  EXPECT_EQ(decodeOk(batch).size(), 3000U);
  EXPECT_EQ(decodeOk(R"({"sensor":"s","ts":1,"value":1})").size(), 1U);
}

constexpr std::string_view kCloudEvent = R"({
  "specversion": "1.0", "id": "evt-42", "source": "urn:plant:gw7", "type": "com.acme.reading",
  "subject": "grid/feeder2/current", "time": "2025-11-28T03:20:00Z",
  "datacontenttype": "application/json", "data": {"value": 12.5}})";

TEST(GatewayJsonDecoderTest, CloudEventFillsEnvelopeAndFallbacks) {
  auto out = decodeOk(kCloudEvent, "ignored/topic");
  ASSERT_EQ(out.size(), 1U);
  ASSERT_FALSE(out[0].error) << out[0].error->message;
  ASSERT_TRUE(out[0].cloud_event);
  EXPECT_EQ(out[0].cloud_event->id, "evt-42");
  EXPECT_EQ(out[0].cloud_event->source, "urn:plant:gw7");
  EXPECT_EQ(out[0].cloud_event->type, "com.acme.reading");
  EXPECT_EQ(out[0].cloud_event->subject, "grid/feeder2/current");
  EXPECT_EQ(out[0].cloud_event->datacontenttype, "application/json");
  EXPECT_EQ(out[0].reading.sensor.str(), "grid/feeder2/current");  // from subject
  EXPECT_EQ(out[0].reading.ts_ns, 1764300000000000000);            // from time
  EXPECT_EQ(out[0].reading.value(), 12.5);
}

TEST(GatewayJsonDecoderTest, CloudEventDataWins) {
  auto out =
      decodeOk(R"({"specversion":"1.0","id":"1","source":"x","type":"t","subject":"subj",)"
               R"("time":"2025-11-28T03:20:00Z","data":{"sensor":"from/data","ts":5,"value":1}})");
  EXPECT_EQ(out[0].reading.sensor.str(), "from/data");
  EXPECT_EQ(out[0].reading.ts_ns, 5);
  out = decodeOk(
      R"({"specversion":"1.0","id":"1","source":"x","type":"t","data":{"ts":5,"value":1}})",
      "the/topic");
  EXPECT_EQ(out[0].reading.sensor.str(), "the/topic");
}

TEST(GatewayJsonDecoderTest, CloudEventErrors) {
  EXPECT_EQ(objectError(R"({"specversion":"0.3","id":"1","source":"x","type":"t","data":{}})"),
            "unsupported CloudEvents specversion '0.3' (need 1.0)");
  EXPECT_EQ(objectError(R"({"specversion":"1.0","source":"x","type":"t","data":{}})"),
            "CloudEvent has no 'id'");
  EXPECT_EQ(objectError(R"({"specversion":"1.0","id":"1","source":"x","type":"t","data":"v"})"),
            "CloudEvent 'data' must be a telemetry object (got string)");
  EXPECT_EQ(objectError(R"({"specversion":"1.0","id":"1","source":"x","type":"t"})"),
            "CloudEvent has no 'data'");
  EXPECT_THAT(
      objectError(R"({"specversion":"1.0","id":"1","source":"x","type":"t","data_base64":"AA=="})"),
      HasSubstr("'data_base64' is not supported"));
  EXPECT_EQ(objectError(R"({"specversion":"1.0","id":"1","source":"x","type":"t","time":"soon",)"
                        R"("data":{"value":1}})"),
            "CloudEvent 'time' is not an RFC 3339 timestamp (got 'soon')");
  EXPECT_EQ(objectError(R"({"sensor":"s","ts":1,"value":1})", "", JsonFlavor::kCloudEvents),
            "not a CloudEvent: 'specversion' is missing");
}

std::string decodePayloadError(std::string_view payload, std::string_view content_type) {
  std::vector<Decoded> out;
  auto status = decodePayload(RawMessage{"t", payload, content_type, "src"}, out);
  return status ? "no error" : status.error().message;
}

TEST(GatewayPayloadDecoderTest, ContentTypes) {
  std::vector<Decoded> out;
  const std::string_view json = R"({"sensor":"s","ts":1,"value":1})";
  EXPECT_TRUE(decodePayload(RawMessage{"t", json, "application/json; charset=utf-8", "x"}, out));
  EXPECT_TRUE(decodePayload(RawMessage{"t", json, "", "x"}, out));
  EXPECT_TRUE(
      decodePayload(RawMessage{"t", kCloudEvent, "application/cloudevents+json", "x"}, out));
  EXPECT_EQ(out.size(), 3U);
  EXPECT_EQ(decodePayloadError(json, "text/csv"),
            "unsupported content type 'text/csv' (use application/json, "
            "application/cloudevents+json, application/cbor or text/plain)");
  EXPECT_EQ(decodePayloadError(json, "text/plain"),
            "a text/plain payload must be one number (e.g. 42.5)");
  EXPECT_EQ(decodePayloadError("", "application/json"), "payload is empty");
  // Declared CBOR but JSON inside: '{' reads as a text string header with an 8-byte length.
  EXPECT_EQ(decodePayloadError(json, "Application/CBOR"), "CBOR payload truncated at byte 0");
}

TEST(GatewayPayloadDecoderTest, PlainNumbersAreReadingsAtTheReceiveTime) {
  std::vector<Decoded> out;
  RawMessage message{"plant/p1/temp", " 42.5\n", "", "x"};
  message.received_ns = 1234;
  ASSERT_TRUE(decodePayload(message, out));
  message.payload = "-3e2";
  message.content_type = "text/plain";
  ASSERT_TRUE(decodePayload(message, out));
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].reading.sensor.str(), "plant/p1/temp");
  EXPECT_EQ(out[0].reading.ts_ns, 1234);
  EXPECT_EQ(out[0].reading.values, std::vector<double>{42.5});
  EXPECT_EQ(out[1].reading.values, std::vector<double>{-300});
  // Without a receive time there is no timestamp to give it.
  EXPECT_THAT(decodePayloadError("42.5", ""), HasSubstr("a plain number carries no timestamp"));
  EXPECT_THAT(decodePayloadError("42.5x", "text/plain"), HasSubstr("must be one number"));
}

TEST(GatewayPayloadDecoderTest, SniffsCborMaps) {
  // {"sensor": "s", "ts": 1, "value": 2}
  const std::string cbor = "\xA3\x66sensor\x61s\x62ts\x01\x65value\x02";
  std::vector<Decoded> out;
  ASSERT_TRUE(decodePayload(RawMessage{"t", cbor, "", "x"}, out));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].reading.value(), 2.0);
}

TEST(GatewayJsonDecoderTest, CarriedKeysBecomeTags) {
  const std::vector<std::string> carry = {"seq", "cid", "ok"};
  DecodeContext context("plant/l1/p1/temp");
  context.carry = carry;
  std::vector<Decoded> out;
  ASSERT_TRUE(decodeJson(R"({"ts":5,"value":1,"seq":42,"cid":"a-1","ok":true,"other":3})", context,
                         JsonFlavor::kAny, out));
  ASSERT_EQ(out.size(), 1U);
  ASSERT_FALSE(out[0].error);
  EXPECT_EQ(out[0].reading.sensor.str(), "plant/l1/p1/temp");
  EXPECT_EQ(out[0].reading.tags,
            (Tags{{"seq", "42"}, {"cid", "a-1"}, {"ok", "true"}}));  // "other" is not carried
}

TEST(GatewayJsonDecoderTest, ReceiveTimeIsTheLastTimestampFallback) {
  DecodeContext context("s");
  context.received_ns = 777;
  std::vector<Decoded> out;
  ASSERT_TRUE(decodeJson(R"([{"value":1},{"ts":5,"value":2}])", context, JsonFlavor::kAny, out));
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].reading.ts_ns, 777);
  EXPECT_EQ(out[1].reading.ts_ns, 5);  // the payload's own timestamp wins
  EXPECT_THAT(objectError(R"({"value":1})", "s"), StartsWith("ts missing"));  // none given
}

}  // namespace
}  // namespace sie::gateway
