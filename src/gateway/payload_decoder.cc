#include "gateway/payload_decoder.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "gateway/cbor_decoder.h"
#include "gateway/json_decoder.h"

namespace sie::gateway {
namespace {

// `a` equals the lower-case `b`, ignoring ASCII case in `a`.
bool sameText(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? static_cast<char>(x - 'A' + 'a') : x) == y;
         });
}

// The media type without parameters or surrounding blanks.
std::string_view mediaType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.front() == ' ') content_type.remove_prefix(1);
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  return content_type;
}

// A payload that is just a number ("42.5", " -3e2\n"), as simple devices publish.
std::optional<double> plainNumber(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' ||
                           text.back() == '\t')) {
    text.remove_suffix(1);
  }
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// One reading of the message's sensor at the time it was received.
Status decodeNumber(double value, const DecodeContext& context, std::vector<Decoded>& out) {
  if (!context.received_ns) {
    return payloadError(
        "a plain number carries no timestamp, and this source does not stamp readings on receipt; "
        "send JSON with 'ts'");
  }
  TelemetryFields fields;
  fields.has_value = true;
  Decoded& decoded = out.emplace_back();
  decoded.reading.values.assign(1, value);
  if (auto status = finishTelemetry(
          fields, Fallbacks{{}, context.topic, std::nullopt, context.received_ns}, decoded.reading);
      !status) {
    out.pop_back();
    return tl::unexpected(status.error());
  }
  return ok();
}

bool looksLikeCbor(std::string_view payload) {
  const auto first = static_cast<unsigned char>(payload.front());
  return first >= 0x80 && first <= 0xBF;
}

}  // namespace

Status decodePayload(const RawMessage& message, std::vector<Decoded>& out) {
  if (message.payload.empty()) return payloadError("payload is empty");
  DecodeContext context(message.topic);
  context.received_ns = message.received_ns;
  context.carry = message.carry;
  const std::string_view type = mediaType(message.content_type);
  if (type.empty() || sameText(type, "text/plain")) {
    if (auto number = plainNumber(message.payload)) return decodeNumber(*number, context, out);
    if (!type.empty()) {
      return payloadError("a text/plain payload must be one number (e.g. 42.5)");
    }
    if (looksLikeCbor(message.payload)) return decodeCbor(message.payload, context, out);
    return decodeJson(message.payload, context, JsonFlavor::kAny, out);
  }
  if (sameText(type, "application/json")) {
    return decodeJson(message.payload, context, JsonFlavor::kAny, out);
  }
  if (sameText(type, "application/cloudevents+json") ||
      sameText(type, "application/cloudevents-batch+json")) {
    return decodeJson(message.payload, context, JsonFlavor::kCloudEvents, out);
  }
  if (sameText(type, "application/cbor")) return decodeCbor(message.payload, context, out);
  return payloadError(fmt::format(
      "unsupported content type '{}' (use application/json, application/cloudevents+json, "
      "application/cbor or text/plain)",
      message.content_type));
}

}  // namespace sie::gateway
