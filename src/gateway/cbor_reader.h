// A pull reader for CBOR (RFC 8949) on top of libcbor's streaming decoder: one data item header
// per next(), no item tree, no allocation, and a declared length never reserves memory (a
// 4-byte header can claim 2^32 elements; only bytes actually present are ever read).
#pragma once

#include <cstdint>
#include <string_view>

#include "sie/result.h"

namespace sie::gateway {

class CborReader {
 public:
  enum class Kind {
    kUnsigned,
    kNegative,
    kBytes,
    kText,
    kArray,
    kMap,
    kTag,
    kFloat,
    kBool,
    kNull,
    kUndefined,
    kBreak,
  };
  struct Item {
    Kind kind = Kind::kNull;
    // kUnsigned: the value; kNegative: the value is -1 - number; kArray: element count;
    // kMap: pair count; kTag: the tag number.
    std::uint64_t number = 0;
    double real = 0;          // kFloat
    bool boolean = false;     // kBool
    bool indefinite = false;  // kBytes/kText (chunked), kArray/kMap (ended by a break)
    std::string_view bytes;   // kBytes/kText when definite; points into the input
  };

  static constexpr int kMaxDepth = 32;

  explicit CborReader(std::string_view data) : data_(data) {}

  // The next item header. Errors name the byte offset: truncated input or malformed CBOR.
  Result<Item> next();
  // Reads past everything `item` encloses (members, tag content, string chunks).
  Status skip(const Item& item) { return skip(item, 0); }

  [[nodiscard]] bool done() const { return pos_ >= data_.size(); }
  [[nodiscard]] std::size_t offset() const { return pos_; }

 private:
  Status skip(const Item& item, int depth);

  std::string_view data_;
  std::size_t pos_ = 0;
};

// "unsigned integer", "text string", "map", ... for messages.
std::string_view cborKindName(CborReader::Kind kind);

}  // namespace sie::gateway
