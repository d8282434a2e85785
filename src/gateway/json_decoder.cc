#include "gateway/json_decoder.h"

#include <array>
#include <utility>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/rfc3339.h"
#include "gateway/json_syntax.h"

namespace sie::gateway {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Parsers that grew beyond this are replaced after use, so one huge payload does not pin
// megabytes of tape per thread.
constexpr std::size_t kKeepParserBytes = std::size_t{64} * 1024;

simdjson::dom::parser makeParser() {
  simdjson::dom::parser parser;
  // On failure (out of memory) the first parse allocates instead.
  [[maybe_unused]] const simdjson::error_code error = parser.allocate(4096, kMaxJsonDepth);
  return parser;
}

std::string_view typeName(element_type type) {
  switch (type) {
    case element_type::ARRAY:
      return "array";
    case element_type::OBJECT:
      return "object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "number";
    case element_type::STRING:
      return "string";
    case element_type::BOOL:
      return "boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "value";
}

Status readNumber(std::string_view key, element v, double& out) {
  if (v.get_double().get(out) == simdjson::SUCCESS) return ok();
  std::string_view text;
  if (v.get_string().get(text) == simdjson::SUCCESS) {
    if (auto special = parseNonFinite(text)) {
      out = *special;
      return ok();
    }
  }
  return payloadError(fmt::format("'{}' must be a number (got {})", key, typeName(v.type())));
}

Status readInteger(std::string_view key, element v, std::int64_t& out) {
  switch (v.type()) {
    case element_type::INT64:
      out = v.get_int64().value_unsafe();
      return ok();
    case element_type::UINT64:
      return payloadError(
          fmt::format("'{}' out of range (got {})", key, v.get_uint64().value_unsafe()));
    case element_type::DOUBLE:
      return payloadError(
          fmt::format("'{}' must be an integer (got {})", key, v.get_double().value_unsafe()));
    default:
      return payloadError(fmt::format("'{}' must be an integer (got {})", key, typeName(v.type())));
  }
}

Status readString(std::string_view key, element v, std::string_view& out) {
  if (v.get_string().get(out) == simdjson::SUCCESS) return ok();
  return payloadError(fmt::format("'{}' must be a string (got {})", key, typeName(v.type())));
}

Status readValues(element v, Telemetry& out) {
  simdjson::dom::array array;
  if (v.get_array().get(array) != simdjson::SUCCESS) {
    return payloadError(fmt::format("'values' must be an array (got {})", typeName(v.type())));
  }
  out.values.clear();
  out.values.reserve(array.size());
  std::size_t i = 0;
  for (element item : array) {
    double x = 0;
    if (!readNumber("values", item, x)) {
      return payloadError(
          fmt::format("'values'[{}] must be a number (got {})", i, typeName(item.type())));
    }
    out.values.push_back(x);
    ++i;
  }
  return ok();
}

// Reads one telemetry key into `fields`/`out`; unknown keys are ignored.
Status readTelemetryKey(std::string_view key, element v, TelemetryFields& fields, Telemetry& out) {
  switch (key.size()) {
    case 2:
      if (key == "ts") {
        std::int64_t ts = 0;
        SIE_CHECK(readInteger(key, v, ts));
        fields.ts = ts;
      }
      break;
    case 4:
      if (key == "time") {
        std::string_view text;
        SIE_CHECK(readString(key, v, text));
        fields.time = text;
      }
      break;
    case 5:
      if (key == "value") {
        double x = 0;
        SIE_CHECK(readNumber(key, v, x));
        out.values.assign(1, x);
        fields.has_value = true;
      } else if (key == "ts_ms") {
        std::int64_t ms = 0;
        SIE_CHECK(readInteger(key, v, ms));
        fields.ts_ms = ms;
      }
      break;
    case 6:
      if (key == "sensor") {
        std::string_view text;
        SIE_CHECK(readString(key, v, text));
        fields.sensor = text;
      } else if (key == "values") {
        SIE_CHECK(readValues(v, out));
        fields.has_values = true;
      }
      break;
    case 7:
      if (key == "quality") {
        std::string_view text;
        SIE_CHECK(readString(key, v, text));
        fields.quality = parseQuality(text);
        if (!fields.quality) {
          return payloadError(
              fmt::format("'quality' must be good, uncertain or bad (got '{}')", text));
        }
      }
      break;
    case 9:
      if (key == "period_ns") {
        std::int64_t period = 0;
        SIE_CHECK(readInteger(key, v, period));
        fields.period_ns = period;
      }
      break;
    default:
      break;
  }
  return ok();
}

// A carried field's text: strings as they are, anything else as minified JSON.
std::string tagText(element v) {
  std::string_view text;
  if (v.get_string().get(text) == simdjson::SUCCESS) return std::string(text);
  return simdjson::minify(v);
}

Status decodeTelemetry(simdjson::dom::object object, const Fallbacks& fallbacks,
                       std::span<const std::string> carry, Telemetry& out) {
  TelemetryFields fields;
  for (auto field : object) {
    SIE_CHECK(readTelemetryKey(field.key, field.value, fields, out));
    if (!carry.empty() && isCarried(carry, field.key)) {
      out.tags.emplace_back(std::string(field.key), tagText(field.value));
    }
  }
  return finishTelemetry(fields, fallbacks, out);
}

Status decodeCloudEvent(simdjson::dom::object object, const DecodeContext& context, Decoded& out) {
  std::string_view specversion, id, source, type, subject, time, datacontenttype;
  std::optional<element> data;
  bool base64 = false;
  const std::array<std::pair<std::string_view, std::string_view*>, 7> attributes = {{
      {"specversion", &specversion},
      {"id", &id},
      {"source", &source},
      {"type", &type},
      {"subject", &subject},
      {"time", &time},
      {"datacontenttype", &datacontenttype},
  }};
  for (auto field : object) {
    const std::string_view key = field.key;
    if (key == "data") {
      data = field.value;
    } else if (key == "data_base64") {
      base64 = true;
    } else {
      for (auto [name, target] : attributes) {
        if (key == name) SIE_CHECK(readString(key, field.value, *target));
      }
    }
  }
  if (specversion != "1.0") {
    return payloadError(
        fmt::format("unsupported CloudEvents specversion '{}' (need 1.0)", specversion));
  }
  if (id.empty()) return payloadError("CloudEvent has no 'id'");
  if (source.empty()) return payloadError("CloudEvent has no 'source'");
  if (type.empty()) return payloadError("CloudEvent has no 'type'");
  Fallbacks fallbacks{subject, context.topic, std::nullopt, context.received_ns};
  if (!time.empty()) {
    fallbacks.time_ns = parseRfc3339(time);
    if (!fallbacks.time_ns) {
      return payloadError(
          fmt::format("CloudEvent 'time' is not an RFC 3339 timestamp (got '{}')", time));
    }
  }
  if (base64) return payloadError("CloudEvent 'data_base64' is not supported: send 'data' as JSON");
  if (!data) return payloadError("CloudEvent has no 'data'");
  simdjson::dom::object payload;
  if (data->get_object().get(payload) != simdjson::SUCCESS) {
    return payloadError(fmt::format("CloudEvent 'data' must be a telemetry object (got {})",
                                    typeName(data->type())));
  }
  out.cloud_event = CloudEventContext{std::string(id), std::string(source), std::string(type),
                                      std::string(subject), std::string(datacontenttype)};
  return decodeTelemetry(payload, fallbacks, context.carry, out.reading);
}

Status decodeObject(element value, const DecodeContext& context, JsonFlavor flavor, Decoded& out) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return payloadError(fmt::format("expected an object (got {})", typeName(value.type())));
  }
  if (object["specversion"].error() == simdjson::SUCCESS) {
    return decodeCloudEvent(object, context, out);
  }
  if (flavor == JsonFlavor::kCloudEvents) {
    return payloadError("not a CloudEvent: 'specversion' is missing");
  }
  return decodeTelemetry(object, Fallbacks{{}, context.topic, std::nullopt, context.received_ns},
                         context.carry, out.reading);
}

Status decodeDocument(simdjson::dom::parser& parser, std::string_view payload,
                      const DecodeContext& context, JsonFlavor flavor, std::vector<Decoded>& out) {
  element root;
  if (auto error = parser.parse(payload.data(), payload.size()).get(root)) {
    if (auto syntax = findJsonSyntaxError(payload)) {
      return payloadError(
          fmt::format("payload is not valid JSON at byte {}: {}", syntax->offset, syntax->what));
    }
    return payloadError(
        fmt::format("payload is not valid JSON: {}", simdjson::error_message(error)));
  }
  simdjson::dom::array batch;
  if (root.get_array().get(batch) == simdjson::SUCCESS) {
    std::size_t i = 0;
    for (element item : batch) {
      Decoded& decoded = out.emplace_back();
      if (auto status = decodeObject(item, context, flavor, decoded); !status) {
        decoded.error = status.error();
        decoded.error->message = fmt::format("batch element {}: {}", i, decoded.error->message);
        decoded.raw = simdjson::minify(item);
      }
      ++i;
    }
    return ok();
  }
  if (root.type() != element_type::OBJECT) {
    return payloadError(fmt::format("payload must be a JSON object or an array of objects (got {})",
                                    typeName(root.type())));
  }
  Decoded& decoded = out.emplace_back();
  if (auto status = decodeObject(root, context, flavor, decoded); !status) {
    decoded.error = status.error();
  }
  return ok();
}

}  // namespace

Status decodeJson(std::string_view payload, const DecodeContext& context, JsonFlavor flavor,
                  std::vector<Decoded>& out) {
  thread_local simdjson::dom::parser parser = makeParser();
  Status status = decodeDocument(parser, payload, context, flavor, out);
  if (payload.size() > kKeepParserBytes) parser = makeParser();
  return status;
}

}  // namespace sie::gateway
