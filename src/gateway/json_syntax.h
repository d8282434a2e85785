// Finds where a JSON text stops being valid JSON. simdjson only says *that* a document is
// invalid; this slow, exact scan runs on that error path alone to tell the sender *where*.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sie::gateway {

struct JsonSyntaxError {
  std::size_t offset = 0;  // 0-based byte offset of the first offending byte
  std::string_view what;   // "expected ':'", "invalid UTF-8", ...
};

// Checks RFC 8259 grammar, UTF-8 in strings, finite numbers and nesting depth (same limit as the
// decoder). Returns nullopt when `text` is one valid JSON value surrounded by whitespace.
std::optional<JsonSyntaxError> findJsonSyntaxError(std::string_view text);

inline constexpr std::size_t kMaxJsonDepth = 64;

}  // namespace sie::gateway
