// JSON from callers the node does not trust (HTTP bodies, worker results), parsed with a bound on
// nesting: nlohmann::json copies, compares and dumps values recursively, one stack frame per
// level, so a document 100,000 levels deep would overflow the stack of the thread handling it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "sie/result.h"

namespace sie {

// Deeper than any document the node's APIs or workers exchange.
inline constexpr std::size_t kMaxJsonDepth = 64;

// The document, or an error saying what is wrong and where (byte offset): not JSON, or arrays and
// objects nested deeper than `max_depth`. Never recurses on the input.
Result<nlohmann::json> parseJson(std::string_view text, std::size_t max_depth = kMaxJsonDepth);
// The same where any error is answered alike: a discarded value, as from
// nlohmann::json::parse(text, nullptr, false).
nlohmann::json parseJsonOrDiscarded(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

// A number from such a document as the integer type T, when it is a number T can hold (a fraction
// is cut off); nullopt otherwise. nlohmann's get<T>() converts a float T cannot hold with
// undefined behaviour, and wraps integers that do not fit.
template <typename T>
std::optional<T> jsonNumber(const nlohmann::json& value) {
  static_assert(std::is_integral_v<T>);
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    return std::in_range<T>(v) ? std::optional<T>(static_cast<T>(v)) : std::nullopt;
  }
  if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    return std::in_range<T>(v) ? std::optional<T>(static_cast<T>(v)) : std::nullopt;
  }
  if (!value.is_number_float()) return std::nullopt;
  const double v = value.get<double>();
  // [-2^digits, 2^digits) for signed T, [0, 2^digits) for unsigned: truncation stays in range.
  const double bound = std::ldexp(1.0, std::numeric_limits<T>::digits);
  const double low = std::is_signed_v<T> ? -bound : 0.0;
  return v >= low && v < bound ? std::optional<T>(static_cast<T>(v)) : std::nullopt;
}

}  // namespace sie
