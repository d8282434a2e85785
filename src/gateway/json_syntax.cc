#include "gateway/json_syntax.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gateway/utf8.h"

namespace sie::gateway {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Recursive descent, bounded by kMaxJsonDepth. Every method returns false once error_ is set.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  std::optional<JsonSyntaxError> run() {
    skipSpace();
    if (!value(0)) return error_;
    skipSpace();
    if (pos_ != s_.size()) return JsonSyntaxError{pos_, "unexpected content after the JSON value"};
    return std::nullopt;
  }

 private:
  bool fail(std::string_view what) { return fail(pos_, what); }
  bool fail(std::size_t at, std::string_view what) {
    error_ = JsonSyntaxError{at, what};
    return false;
  }
  [[nodiscard]] bool atEnd() const { return pos_ >= s_.size(); }
  [[nodiscard]] char peek() const { return s_[pos_]; }

  void skipSpace() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++pos_;
    }
  }

  bool value(std::size_t depth) {
    if (atEnd()) return fail("unexpected end (expected a value)");
    switch (peek()) {
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        if (peek() == '-' || isDigit(peek())) return number();
        return fail("expected a value");
    }
  }

  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool object(std::size_t depth) {
    if (depth > kMaxJsonDepth) return fail("nested too deeply");
    ++pos_;
    skipSpace();
    if (!atEnd() && peek() == '}') return ++pos_, true;
    while (true) {
      if (atEnd() || peek() != '"') return fail("expected a string key");
      if (!string()) return false;
      skipSpace();
      if (atEnd() || peek() != ':') return fail("expected ':'");
      ++pos_;
      skipSpace();
      if (!value(depth)) return false;
      skipSpace();
      if (atEnd()) return fail("unexpected end (expected ',' or '}')");
      if (peek() == '}') return ++pos_, true;
      if (peek() != ',') return fail("expected ',' or '}'");
      ++pos_;
      skipSpace();
    }
  }

  bool array(std::size_t depth) {
    if (depth > kMaxJsonDepth) return fail("nested too deeply");
    ++pos_;
    skipSpace();
    if (!atEnd() && peek() == ']') return ++pos_, true;
    while (true) {
      if (!value(depth)) return false;
      skipSpace();
      if (atEnd()) return fail("unexpected end (expected ',' or ']')");
      if (peek() == ']') return ++pos_, true;
      if (peek() != ',') return fail("expected ',' or ']'");
      ++pos_;
      skipSpace();
    }
  }

  bool number() {
    const std::size_t start = pos_;
    bool integer = true;
    if (peek() == '-') ++pos_;
    if (atEnd() || !isDigit(peek())) return fail("invalid number");
    if (peek() == '0') {
      ++pos_;
    } else {
      while (!atEnd() && isDigit(peek())) ++pos_;
    }
    if (!atEnd() && peek() == '.') {
      integer = false;
      ++pos_;
      if (atEnd() || !isDigit(peek())) return fail("invalid number");
      while (!atEnd() && isDigit(peek())) ++pos_;
    }
    if (!atEnd() && (peek() == 'e' || peek() == 'E')) {
      integer = false;
      ++pos_;
      if (!atEnd() && (peek() == '+' || peek() == '-')) ++pos_;
      if (atEnd() || !isDigit(peek())) return fail("invalid number");
      while (!atEnd() && isDigit(peek())) ++pos_;
    }
    const std::string_view text = s_.substr(start, pos_ - start);
    // simdjson refuses integers beyond 64 bits and numbers beyond the double range (1e999),
    // but rounds tiny ones to zero.
    if (integer) {
      std::int64_t i = 0;
      std::uint64_t u = 0;
      const char* end = text.data() + text.size();
      if (std::from_chars(text.data(), end, i).ec != std::errc() &&
          std::from_chars(text.data(), end, u).ec != std::errc()) {
        return fail(start, "integer out of 64-bit range");
      }
      return true;
    }
    if (std::isinf(std::strtod(std::string(text).c_str(), nullptr))) {
      return fail(start, "number out of range");
    }
    return true;
  }

  bool string() {
    ++pos_;  // opening quote
    while (true) {
      if (atEnd()) return fail("unterminated string");
      const auto c = static_cast<unsigned char>(peek());
      if (c == '"') return ++pos_, true;
      if (c < 0x20) return fail("control character in string");
      if (c == '\\') {
        if (!escape()) return false;
      } else if (c >= 0x80) {
        if (!utf8()) return false;
      } else {
        ++pos_;
      }
    }
  }

  bool escape() {
    const std::size_t start = pos_;
    ++pos_;
    if (atEnd()) return fail("unterminated string");
    const char e = peek();
    if (e != 'u') {
      if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return fail(start, "invalid escape");
      }
      ++pos_;
      return true;
    }
    const auto unit = hex4(start);
    if (!unit) return false;
    if (*unit >= 0xDC00 && *unit <= 0xDFFF) return fail(start, "unpaired UTF-16 surrogate");
    if (*unit >= 0xD800 && *unit <= 0xDBFF) {
      if (s_.substr(pos_, 2) != "\\u") return fail(start, "unpaired UTF-16 surrogate");
      ++pos_;
      const auto low = hex4(start);
      if (!low) return false;
      if (*low < 0xDC00 || *low > 0xDFFF) return fail(start, "unpaired UTF-16 surrogate");
    }
    return true;
  }

  // At the 'u' of "\uXXXX"; leaves pos_ after the four digits.
  std::optional<std::uint32_t> hex4(std::size_t escape_start) {
    ++pos_;
    if (pos_ + 4 > s_.size()) {
      fail(escape_start, "invalid escape");
      return std::nullopt;
    }
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      const char h = peek();
      if (!isHex(h)) {
        fail(escape_start, "invalid escape");
        return std::nullopt;
      }
      v = v * 16 + static_cast<std::uint32_t>(isDigit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    return v;
  }

  bool utf8() {
    const std::size_t length = utf8SequenceLength(s_, pos_);
    if (length == 0) return fail("invalid UTF-8");
    pos_ += length;
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::optional<JsonSyntaxError> error_;
};

}  // namespace

std::optional<JsonSyntaxError> findJsonSyntaxError(std::string_view text) {
  return Scanner(text).run();
}

}  // namespace sie::gateway
