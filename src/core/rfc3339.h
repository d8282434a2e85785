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

// "2025-11-28T03:20:00.500000000Z": UTC, the fraction at a fixed width (so the texts sort as the
// times do) of `fraction_digits`, 0 to 9, truncated; 0 writes none ("2025-11-28T03:20:00Z").
std::string formatRfc3339(std::int64_t ns, int fraction_digits = 9);
// Whole seconds since the epoch, any int64 (certificate validity may lie past 2262).
std::string formatRfc3339Seconds(std::int64_t seconds);

}  // namespace sie
