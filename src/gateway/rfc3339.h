// RFC 3339 timestamps ("2025-11-28T03:20:00.5Z", "2025-11-28T04:20:00+01:00") to epoch ns.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sie::gateway {

// Returns nullopt for anything that is not a valid RFC 3339 date-time or lies outside the int64
// nanosecond range (years 1678..2261). Fractions beyond nanoseconds are truncated; a leap second
// (:60) counts as :59.999999999 so ordering is kept.
std::optional<std::int64_t> parseRfc3339(std::string_view text);

}  // namespace sie::gateway
