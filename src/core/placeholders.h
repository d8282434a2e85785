// "{name}" placeholders in topic, key, sensor and payload templates. A name the lookup does not
// know stays as written, so JSON text ("{\"a\":1}") passes through unchanged. Names are letters,
// digits, '_', '-' and '.'.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "sie/event.h"

namespace sie {

using PlaceholderLookup = std::function<std::optional<std::string_view>(std::string_view name)>;

std::string expandPlaceholders(std::string_view text, const PlaceholderLookup& lookup);

// Whether `c` may appear in a placeholder's name.
bool isPlaceholderNameChar(char c);

// A lookup over tags (the first tag of a name wins).
std::optional<std::string_view> findTag(const Tags& tags, std::string_view name);

}  // namespace sie
