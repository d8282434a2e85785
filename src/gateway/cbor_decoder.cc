#include "gateway/cbor_decoder.h"

#include <limits>

#include <fmt/format.h>

#include "gateway/cbor_reader.h"
#include "gateway/utf8.h"

namespace sie::gateway {
namespace {

using Item = CborReader::Item;
using Kind = CborReader::Kind;

// Structure was checked by a first pass, so errors here are about types and values.
class MapDecoder {
 public:
  MapDecoder(CborReader& reader, const DecodeContext& context)
      : reader_(reader), context_(context) {}

  Status decode(const Item& map, Telemetry& out) {
    TelemetryFields fields;
    for (std::uint64_t i = 0; map.indefinite || i < map.number; ++i) {
      const Item key = SIE_TRY(reader_.next());
      if (key.kind == Kind::kBreak) break;
      if (key.kind != Kind::kText || key.indefinite) {
        return payloadError(
            fmt::format("CBOR map keys must be text strings (got {})", cborKindName(key.kind)));
      }
      const Item value = SIE_TRY(unwrapped());
      SIE_CHECK(readKey(key.bytes, value, fields, out));
    }
    return finishTelemetry(fields,
                           Fallbacks{{}, context_.topic, std::nullopt, context_.received_ns}, out);
  }

 private:
  Result<Item> unwrapped() {
    Item item = SIE_TRY(reader_.next());
    while (item.kind == Kind::kTag) item = SIE_TRY(reader_.next());
    return item;
  }

  Status readKey(std::string_view key, const Item& v, TelemetryFields& fields, Telemetry& out) {
    if (key == "sensor") {
      fields.sensor = SIE_TRY(text(key, v));
      // JSON text is checked by simdjson; CBOR text strings are not checked by libcbor.
      if (!isValidUtf8(*fields.sensor)) return payloadError("'sensor' is not valid UTF-8");
    } else if (key == "ts") {
      fields.ts = SIE_TRY(integer(key, v));
    } else if (key == "ts_ms") {
      fields.ts_ms = SIE_TRY(integer(key, v));
    } else if (key == "time") {
      fields.time = SIE_TRY(text(key, v));
    } else if (key == "value") {
      out.values.assign(1, SIE_TRY(number(key, v)));
      fields.has_value = true;
    } else if (key == "values") {
      SIE_CHECK(values(v, out));
      fields.has_values = true;
    } else if (key == "period_ns") {
      fields.period_ns = SIE_TRY(integer(key, v));
    } else if (key == "quality") {
      const std::string_view name = SIE_TRY(text(key, v));
      fields.quality = parseQuality(name);
      if (!fields.quality) {
        return payloadError(
            fmt::format("'quality' must be good, uncertain or bad (got '{}')", name));
      }
    } else if (!context_.carry.empty() && isCarried(context_.carry, key)) {
      out.tags.emplace_back(std::string(key), SIE_TRY(tagText(key, v)));
    } else {
      return reader_.skip(v);
    }
    return ok();
  }

  // A carried field's text: text strings as they are, numbers and booleans printed.
  Result<std::string> tagText(std::string_view key, const Item& v) {
    switch (v.kind) {
      case Kind::kText:
        if (!v.indefinite && isValidUtf8(v.bytes)) return std::string(v.bytes);
        break;
      case Kind::kUnsigned:
      case Kind::kNegative:
        return fmt::format("{}", SIE_TRY(integer(key, v)));
      case Kind::kFloat:
        return fmt::format("{}", v.real);
      case Kind::kBool:
        return std::string(v.boolean ? "true" : "false");
      default:
        break;
    }
    return wrongType(key, "a UTF-8 text string, a number or a boolean", v);
  }

  static tl::unexpected<Error> wrongType(std::string_view key, std::string_view want,
                                         const Item& v) {
    return payloadError(fmt::format("'{}' must be {} (got {})", key, want, cborKindName(v.kind)));
  }

  static Result<std::string_view> text(std::string_view key, const Item& v) {
    if (v.kind != Kind::kText || v.indefinite) return wrongType(key, "a text string", v);
    return v.bytes;
  }

  static Result<std::int64_t> integer(std::string_view key, const Item& v) {
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (v.kind != Kind::kUnsigned && v.kind != Kind::kNegative) {
      return wrongType(key, "an integer", v);
    }
    if (v.number > kMax) {
      return payloadError(fmt::format("'{}' out of range (got {}{})", key,
                                      v.kind == Kind::kNegative ? "-1-" : "", v.number));
    }
    const auto n = static_cast<std::int64_t>(v.number);
    return v.kind == Kind::kUnsigned ? n : -1 - n;
  }

  static Result<double> number(std::string_view key, const Item& v) {
    switch (v.kind) {
      case Kind::kUnsigned:
        return static_cast<double>(v.number);
      case Kind::kNegative:
        return -1.0 - static_cast<double>(v.number);
      case Kind::kFloat:
        return v.real;
      case Kind::kText:
        if (auto special = parseNonFinite(v.bytes); special && !v.indefinite) return *special;
        break;
      default:
        break;
    }
    return wrongType(key, "a number", v);
  }

  Status values(const Item& array, Telemetry& out) {
    if (array.kind != Kind::kArray) return wrongType("values", "an array", array);
    out.values.clear();
    for (std::uint64_t i = 0; array.indefinite || i < array.number; ++i) {
      Item item = SIE_TRY(reader_.next());
      if (item.kind == Kind::kBreak) break;
      while (item.kind == Kind::kTag) item = SIE_TRY(reader_.next());
      auto x = number("values", item);
      if (!x) {
        return payloadError(
            fmt::format("'values'[{}] must be a number (got {})", i, cborKindName(item.kind)));
      }
      out.values.push_back(*x);
    }
    return ok();
  }

  CborReader& reader_;
  const DecodeContext& context_;
};

// Decodes one map on a reader over exactly its bytes, so an error inside one batch element
// leaves the others readable.
void decodeElement(std::string_view element, const DecodeContext& context, Decoded& out) {
  CborReader reader(element);
  Status status = [&]() -> Status {
    const Item map = SIE_TRY(reader.next());
    return MapDecoder(reader, context).decode(map, out.reading);
  }();
  if (!status) out.error = status.error();
}

}  // namespace

Status decodeCbor(std::string_view payload, const DecodeContext& context,
                  std::vector<Decoded>& out) {
  // First pass: the payload must be exactly one well-formed item.
  CborReader check(payload);
  const Item top = SIE_TRY(check.next());
  SIE_CHECK(check.skip(top));
  if (!check.done()) {
    return payloadError(
        fmt::format("unexpected bytes after the CBOR item at byte {}", check.offset()));
  }
  if (top.kind == Kind::kMap) {
    decodeElement(payload, context, out.emplace_back());
    return ok();
  }
  if (top.kind != Kind::kArray) {
    return payloadError(fmt::format("CBOR payload must be a map or an array of maps (got {})",
                                    cborKindName(top.kind)));
  }
  CborReader batch(payload);
  SIE_CHECK(batch.next());
  for (std::uint64_t i = 0; top.indefinite || i < top.number; ++i) {
    const std::size_t start = batch.offset();
    const Item item = SIE_TRY(batch.next());
    if (item.kind == Kind::kBreak) break;
    SIE_CHECK(batch.skip(item));
    Decoded& decoded = out.emplace_back();
    if (item.kind == Kind::kMap) {
      decodeElement(payload.substr(start, batch.offset() - start), context, decoded);
    } else {
      decoded.error =
          payloadError(fmt::format("expected a map (got {})", cborKindName(item.kind))).value();
    }
    if (decoded.error) {
      decoded.error->message = fmt::format("batch element {}: {}", i, decoded.error->message);
      decoded.raw = payload.substr(start, batch.offset() - start);
    }
  }
  return ok();
}

}  // namespace sie::gateway
