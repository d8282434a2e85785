#include "gateway/cbor_reader.h"

#include <cbor.h>
#include <fmt/format.h>

namespace sie::gateway {
namespace {

using Item = CborReader::Item;
using Kind = CborReader::Kind;

Item& itemOf(void* context) { return *static_cast<Item*>(context); }

void setUnsigned(void* c, std::uint64_t v) {
  itemOf(c) = Item{.kind = Kind::kUnsigned, .number = v};
}
void setNegative(void* c, std::uint64_t v) {
  itemOf(c) = Item{.kind = Kind::kNegative, .number = v};
}
void setFloat(void* c, double v) { itemOf(c) = Item{.kind = Kind::kFloat, .real = v}; }
void setKind(void* c, Kind kind, bool indefinite) {
  itemOf(c) = Item{.kind = kind, .indefinite = indefinite};
}

cbor_callbacks makeCallbacks() {
  cbor_callbacks cb = cbor_empty_callbacks;
  cb.uint8 = [](void* c, uint8_t v) { setUnsigned(c, v); };
  cb.uint16 = [](void* c, uint16_t v) { setUnsigned(c, v); };
  cb.uint32 = [](void* c, uint32_t v) { setUnsigned(c, v); };
  cb.uint64 = [](void* c, uint64_t v) { setUnsigned(c, v); };
  cb.negint8 = [](void* c, uint8_t v) { setNegative(c, v); };
  cb.negint16 = [](void* c, uint16_t v) { setNegative(c, v); };
  cb.negint32 = [](void* c, uint32_t v) { setNegative(c, v); };
  cb.negint64 = [](void* c, uint64_t v) { setNegative(c, v); };
  cb.byte_string = [](void* c, cbor_data data, size_t size) {
    itemOf(c) = Item{.kind = Kind::kBytes, .bytes = {reinterpret_cast<const char*>(data), size}};
  };
  cb.byte_string_start = [](void* c) { setKind(c, Kind::kBytes, true); };
  cb.string = [](void* c, cbor_data data, size_t size) {
    itemOf(c) = Item{.kind = Kind::kText, .bytes = {reinterpret_cast<const char*>(data), size}};
  };
  cb.string_start = [](void* c) { setKind(c, Kind::kText, true); };
  cb.array_start = [](void* c, size_t n) { itemOf(c) = Item{.kind = Kind::kArray, .number = n}; };
  cb.indef_array_start = [](void* c) { setKind(c, Kind::kArray, true); };
  cb.map_start = [](void* c, size_t n) { itemOf(c) = Item{.kind = Kind::kMap, .number = n}; };
  cb.indef_map_start = [](void* c) { setKind(c, Kind::kMap, true); };
  cb.tag = [](void* c, uint64_t v) { itemOf(c) = Item{.kind = Kind::kTag, .number = v}; };
  cb.float2 = [](void* c, float v) { setFloat(c, v); };
  cb.float4 = [](void* c, float v) { setFloat(c, v); };
  cb.float8 = [](void* c, double v) { setFloat(c, v); };
  cb.undefined = [](void* c) { setKind(c, Kind::kUndefined, false); };
  cb.null = [](void* c) { setKind(c, Kind::kNull, false); };
  cb.boolean = [](void* c, bool v) { itemOf(c) = Item{.kind = Kind::kBool, .boolean = v}; };
  cb.indef_break = [](void* c) { setKind(c, Kind::kBreak, false); };
  return cb;
}

const cbor_callbacks kCallbacks = makeCallbacks();

tl::unexpected<Error> malformed(std::string_view what, std::size_t offset) {
  return fail(Errc::kParse, fmt::format("{} at byte {}", what, offset), "payload");
}

}  // namespace

Result<Item> CborReader::next() {
  Item item;
  const cbor_decoder_result result =
      done() ? cbor_decoder_result{0, CBOR_DECODER_NEDATA, 1}
             : cbor_stream_decode(reinterpret_cast<cbor_data>(data_.data() + pos_),
                                  data_.size() - pos_, &kCallbacks, &item);
  switch (result.status) {
    case CBOR_DECODER_FINISHED:
      pos_ += result.read;
      return item;
    case CBOR_DECODER_NEDATA:
      return malformed("CBOR payload truncated", pos_);
    case CBOR_DECODER_ERROR:
      break;
  }
  // libcbor also refuses the unassigned simple values (0xE0-0xF3, 0xF8).
  return malformed("malformed or unsupported CBOR item", pos_);
}

Status CborReader::skip(const Item& item, int depth) {
  if (depth > kMaxDepth) {
    return fail(Errc::kParse, fmt::format("CBOR nested deeper than {} levels", kMaxDepth),
                "payload");
  }
  switch (item.kind) {
    case Kind::kArray:
    case Kind::kMap: {
      const int per_entry = item.kind == Kind::kMap ? 2 : 1;
      for (std::uint64_t i = 0; item.indefinite || i < item.number; ++i) {
        for (int j = 0; j < per_entry; ++j) {
          const Item child = SIE_TRY(next());
          if (child.kind == Kind::kBreak) {
            if (item.indefinite && j == 0) return ok();
            return malformed("unexpected CBOR break", pos_ - 1);
          }
          SIE_CHECK(skip(child, depth + 1));
        }
      }
      return ok();
    }
    case Kind::kTag:
      return skip(SIE_TRY(next()), depth + 1);
    case Kind::kBytes:
    case Kind::kText:
      if (!item.indefinite) return ok();
      while (true) {
        const std::size_t chunk_at = pos_;
        const Item chunk = SIE_TRY(next());
        if (chunk.kind == Kind::kBreak) return ok();
        if (chunk.kind != item.kind || chunk.indefinite) {
          return malformed("malformed CBOR string chunk", chunk_at);
        }
      }
    case Kind::kBreak:
      return malformed("unexpected CBOR break", pos_ - 1);
    default:
      return ok();
  }
}

std::string_view cborKindName(CborReader::Kind kind) {
  switch (kind) {
    case Kind::kUnsigned:
      return "unsigned integer";
    case Kind::kNegative:
      return "negative integer";
    case Kind::kBytes:
      return "byte string";
    case Kind::kText:
      return "text string";
    case Kind::kArray:
      return "array";
    case Kind::kMap:
      return "map";
    case Kind::kTag:
      return "tag";
    case Kind::kFloat:
      return "float";
    case Kind::kBool:
      return "boolean";
    case Kind::kNull:
      return "null";
    case Kind::kUndefined:
      return "undefined";
    case Kind::kBreak:
      return "break";
  }
  return "item";
}

}  // namespace sie::gateway
