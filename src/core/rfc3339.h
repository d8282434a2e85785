// RFC 3339 timestamps ("2025-11-28T03:20:00.5Z", "2025-11-28T04:20:00+01:00") from and to epoch
// ns: the one parser and the one formatter every part of the node uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sie {

// Returns nullopt for anything that is not a valid RFC 3339 date-time or lies outside the int64
// nanosecond range (years 1678..2261). Fractions beyond nanoseconds are truncated; a leap second
// (:60) counts as :59.999999999 so ordering is kept.
std::optional<std::int64_t> parseRfc3339(std::string_view text);

// "2025-11-28T03:20:00.500000000Z": UTC, nanoseconds always written (fixed width, so the texts
// sort as the times do).
std::string formatRfc3339(std::int64_t ns);

}  // namespace sie
