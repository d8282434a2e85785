#include "gateway/payload_decoder.h"

#include <algorithm>

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
  if (type.empty()) {
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
      "unsupported content type '{}' (use application/json, application/cloudevents+json or "
      "application/cbor)",
      message.content_type));
}

}  // namespace sie::gateway
