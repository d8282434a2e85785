#include "gateway/cbor_decoder.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cbor_builder.h"

namespace sie::gateway {
namespace {

using testing::CborBuilder;
using ::testing::HasSubstr;

std::vector<Decoded> decodeOk(std::string_view payload, std::string_view topic = "") {
  std::vector<Decoded> out;
  auto status = decodeCbor(payload, topic, out);
  EXPECT_TRUE(status) << status.error().str();
  return out;
}

std::string objectError(std::string_view payload) {
  auto out = decodeOk(payload);
  if (out.size() != 1 || !out[0].error) return "no error";
  return out[0].error->message;
}

std::string payloadError(std::string_view payload) {
  std::vector<Decoded> out;
  auto status = decodeCbor(payload, {}, out);
  EXPECT_TRUE(out.empty());
  return status ? "no error" : status.error().message;
}

// {"sensor": sensor, "ts": ts, "value": <value written by the caller>}
CborBuilder reading(std::string_view sensor, std::uint64_t ts) {
  CborBuilder b;
  b.map(3).text("sensor").text(sensor).text("ts").uint(ts).text("value");
  return b;
}

TEST(GatewayCborDecoderTest, PlainMap) {
  auto out = decodeOk(reading("grid/feeder1/voltage", 1764300000000000000).f64(230.1).str());
  ASSERT_EQ(out.size(), 1U);
  ASSERT_FALSE(out[0].error) << out[0].error->message;
  EXPECT_EQ(out[0].reading.sensor.str(), "grid/feeder1/voltage");
  EXPECT_EQ(out[0].reading.ts_ns, 1764300000000000000);
  EXPECT_EQ(out[0].reading.value(), 230.1);
}

TEST(GatewayCborDecoderTest, NumberEncodings) {
  EXPECT_EQ(decodeOk(reading("s", 1).uint(7).str())[0].reading.value(), 7.0);
  EXPECT_EQ(decodeOk(reading("s", 1).negint(4).str())[0].reading.value(), -5.0);
  EXPECT_EQ(decodeOk(reading("s", 1).f32(1.5F).str())[0].reading.value(), 1.5);
  EXPECT_EQ(decodeOk(reading("s", 1).f16(0x3E00).str())[0].reading.value(), 1.5);  // half 1.5
  EXPECT_TRUE(std::isnan(decodeOk(reading("s", 1).f16(0x7E00).str())[0].reading.value()));
  EXPECT_EQ(decodeOk(reading("s", 1).tag(4711).f64(2.5).str())[0].reading.value(), 2.5);
}

TEST(GatewayCborDecoderTest, AllKeysAndIndefiniteContainers) {
  CborBuilder b;
  b.indefMap()
      .text("sensor")
      .text("rotating/pump1/vibration")
      .text("time")
      .tag(0)
      .text("2025-11-28T03:20:00Z")
      .text("values")
      .indefArray()
      .f64(1)
      .negint(1)
      .uint(3)
      .brk()
      .text("period_ns")
      .uint(250)
      .text("quality")
      .text("bad")
      .text("unknown")
      .map(1)
      .text("deep")
      .array(2)
      .bytes("xy")
      .indefText()
      .text("a")
      .brk()
      .brk();
  auto out = decodeOk(b.str());
  ASSERT_FALSE(out[0].error) << out[0].error->message;
  const Telemetry& r = out[0].reading;
  EXPECT_EQ(r.ts_ns, 1764300000000000000);
  EXPECT_EQ(r.values, (std::vector<double>{1, -2, 3}));
  EXPECT_EQ(r.sample_period_ns, 250);
  EXPECT_EQ(r.quality, Quality::kBad);
}

TEST(GatewayCborDecoderTest, TsMsAndTopicFallback) {
  CborBuilder b;
  b.map(2).text("ts_ms").uint(1764300000123).text("value").uint(1);
  auto out = decodeOk(b.str(), "plant/t1");
  EXPECT_EQ(out[0].reading.sensor.str(), "plant/t1");
  EXPECT_EQ(out[0].reading.ts_ns, 1764300000123000000);
}

TEST(GatewayCborDecoderTest, WrongTypes) {
  EXPECT_EQ(objectError(reading("s", 1).text("230").str()),
            "'value' must be a number (got text string)");
  CborBuilder sensor;
  sensor.map(3).text("sensor").uint(5).text("ts").uint(1).text("value").uint(1);
  EXPECT_EQ(objectError(sensor.str()), "'sensor' must be a text string (got unsigned integer)");
  CborBuilder ts;
  ts.map(3).text("sensor").text("s").text("ts").f64(1.5).text("value").uint(1);
  EXPECT_EQ(objectError(ts.str()), "'ts' must be an integer (got float)");
  CborBuilder huge;
  huge.map(3).text("sensor").text("s").text("ts").uint(~0ULL).text("value").uint(1);
  EXPECT_EQ(objectError(huge.str()), "'ts' out of range (got 18446744073709551615)");
  CborBuilder key;
  key.map(1).uint(1).uint(2);
  EXPECT_EQ(objectError(key.str()), "CBOR map keys must be text strings (got unsigned integer)");
  CborBuilder values;
  values.map(4)
      .text("sensor")
      .text("s")
      .text("ts")
      .uint(1)
      .text("period_ns")
      .uint(1)
      .text("values")
      .array(2)
      .uint(1)
      .map(0);
  EXPECT_EQ(objectError(values.str()), "'values'[1] must be a number (got map)");
  CborBuilder utf8;
  utf8.map(3).text("sensor").text("bad\xC3\x28").text("ts").uint(1).text("value").uint(1);
  EXPECT_EQ(objectError(utf8.str()), "'sensor' is not valid UTF-8");
  CborBuilder missing;
  missing.map(1).text("value").uint(1);
  EXPECT_EQ(objectError(missing.str()), "no sensor id: set 'sensor' or publish on a topic");
}

TEST(GatewayCborDecoderTest, StructuralErrors) {
  const std::string full = reading("s", 1).f64(1).str();
  EXPECT_EQ(payloadError(full.substr(0, full.size() - 1)),
            "CBOR payload truncated at byte " + std::to_string(full.size() - 9));
  EXPECT_EQ(payloadError(full + "\x01"),
            "unexpected bytes after the CBOR item at byte " + std::to_string(full.size()));
  EXPECT_EQ(payloadError(CborBuilder().text("hello").str()),
            "CBOR payload must be a map or an array of maps (got text string)");
  EXPECT_EQ(payloadError("\xFF"), "unexpected CBOR break at byte 0");
  EXPECT_EQ(payloadError("\xA1\x1C"), "malformed or unsupported CBOR item at byte 1");  // reserved
  EXPECT_EQ(payloadError("\xA1\x61x\xE0"), "malformed or unsupported CBOR item at byte 3");
  // An array header claiming 2^64-1 elements: read lazily, fails at the end of the input.
  EXPECT_EQ(payloadError("\x9B\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01"),
            "CBOR payload truncated at byte 10");
  EXPECT_EQ(payloadError(""), "CBOR payload truncated at byte 0");
}

TEST(GatewayCborDecoderTest, DeeplyNestedGarbage) {
  CborBuilder b;
  b.map(1).text("x");
  for (int i = 0; i < 40; ++i) b.array(1);
  b.uint(0);
  EXPECT_EQ(payloadError(b.str()), "CBOR nested deeper than 32 levels");
  CborBuilder tags;
  for (int i = 0; i < 40; ++i) tags.tag(1);
  tags.uint(0);
  EXPECT_EQ(payloadError(tags.str()), "CBOR nested deeper than 32 levels");
}

TEST(GatewayCborDecoderTest, BatchOfMaps) {
  CborBuilder b;
  b.array(3);
  b.raw(reading("a", 1).f64(1).str());
  b.raw(reading("b", 2).text("oops").str());
  b.text("not a map");
  auto out = decodeOk(b.str());
  ASSERT_EQ(out.size(), 3U);
  EXPECT_FALSE(out[0].error);
  ASSERT_TRUE(out[1].error);
  EXPECT_EQ(out[1].error->message, "batch element 1: 'value' must be a number (got text string)");
  EXPECT_EQ(out[1].raw, reading("b", 2).text("oops").str());
  ASSERT_TRUE(out[2].error);
  EXPECT_EQ(out[2].error->message, "batch element 2: expected a map (got text string)");
}

TEST(GatewayCborDecoderTest, CarriedKeysBecomeTags) {
  const std::vector<std::string> carry = {"seq", "cid", "gain"};
  DecodeContext context("s");
  context.carry = carry;
  CborBuilder b;
  b.map(5).text("ts").uint(5).text("value").uint(1).text("seq").uint(42).text("cid").text("a-1");
  b.text("gain").f64(0.5);
  std::vector<Decoded> out;
  ASSERT_TRUE(decodeCbor(b.str(), context, out));
  ASSERT_EQ(out.size(), 1U);
  ASSERT_FALSE(out[0].error) << out[0].error->message;
  EXPECT_EQ(out[0].reading.tags, (Tags{{"seq", "42"}, {"cid", "a-1"}, {"gain", "0.5"}}));

  CborBuilder nested;
  nested.map(3).text("ts").uint(5).text("value").uint(1).text("seq").array(0);
  out.clear();
  ASSERT_TRUE(decodeCbor(nested.str(), context, out));
  ASSERT_TRUE(out[0].error);
  EXPECT_THAT(out[0].error->message, HasSubstr("'seq' must be a UTF-8 text string, a number"));
}

}  // namespace
}  // namespace sie::gateway
