// Writes CBOR bytes item by item, for tests and fuzz seeds.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sie::gateway::testing {

class CborBuilder {
 public:
  CborBuilder& head(int major, std::uint64_t v) {
    const auto m = static_cast<char>(major << 5);
    if (v < 24) {
      bytes_ += static_cast<char>(m | static_cast<char>(v));
    } else if (v <= 0xFF) {
      bytes_ += static_cast<char>(m | 24);
      be(v, 1);
    } else if (v <= 0xFFFF) {
      bytes_ += static_cast<char>(m | 25);
      be(v, 2);
    } else if (v <= 0xFFFFFFFFULL) {
      bytes_ += static_cast<char>(m | 26);
      be(v, 4);
    } else {
      bytes_ += static_cast<char>(m | 27);
      be(v, 8);
    }
    return *this;
  }
  CborBuilder& uint(std::uint64_t v) { return head(0, v); }
  CborBuilder& negint(std::uint64_t n) { return head(1, n); }  // the value -1 - n
  CborBuilder& bytes(std::string_view b) { return head(2, b.size()).raw(b); }
  CborBuilder& text(std::string_view t) { return head(3, t.size()).raw(t); }
  CborBuilder& array(std::uint64_t n) { return head(4, n); }
  CborBuilder& map(std::uint64_t n) { return head(5, n); }
  CborBuilder& tag(std::uint64_t t) { return head(6, t); }
  CborBuilder& f64(double d) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &d, sizeof bits);
    bytes_ += '\xFB';
    return be(bits, 8);
  }
  CborBuilder& f32(float f) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    bytes_ += '\xFA';
    return be(bits, 4);
  }
  CborBuilder& f16(std::uint16_t bits) {
    bytes_ += '\xF9';
    return be(bits, 2);
  }
  CborBuilder& boolean(bool b) { return raw(b ? "\xF5" : "\xF4"); }
  CborBuilder& null() { return raw("\xF6"); }
  CborBuilder& indefArray() { return raw("\x9F"); }
  CborBuilder& indefMap() { return raw("\xBF"); }
  CborBuilder& indefText() { return raw("\x7F"); }
  CborBuilder& brk() { return raw("\xFF"); }
  CborBuilder& raw(std::string_view b) {
    bytes_.append(b);
    return *this;
  }
  [[nodiscard]] const std::string& str() const { return bytes_; }

 private:
  CborBuilder& be(std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) bytes_ += static_cast<char>((v >> (8 * i)) & 0xFF);
    return *this;
  }
  std::string bytes_;
};

}  // namespace sie::gateway::testing
