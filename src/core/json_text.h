// JSON from callers the node does not trust (HTTP bodies, worker results), parsed with a bound on
// nesting: nlohmann::json copies, compares and dumps values recursively, one stack frame per
// level, so a document 100,000 levels deep would overflow the stack of the thread handling it.
#pragma once

#include <cstddef>
#include <string_view>

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

}  // namespace sie
