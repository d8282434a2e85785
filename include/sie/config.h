// Component configuration tables. Each plugin declares its keys (type, default, description) in
// one table; the loader checks a YAML block against it, so unknown keys, wrong types and missing
// required keys fail at load time with file:line, and docs can be generated from the table.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sie/result.h"

namespace sie {

struct ConfigKey {
  // kSize: bytes, with an optional unit (65536, 512K, 256Mi, 1Gi). kNumberList: finite numbers.
  // kStringMap: a map of names to strings (environment variables). kTableList: a list of maps,
  // each checked against the table `fields` returns.
  enum class Type {
    kString,
    kInt,
    kDouble,
    kBool,
    kDuration,
    kSize,
    kStringList,
    kNumberList,
    kStringMap,
    kTableList
  };
  std::string_view name;
  Type type = Type::kString;
  std::string_view fallback;  // default as text; "" with required = false means "unset"
  std::string_view description;
  bool required = false;
  std::span<const ConfigKey> (*fields)() = nullptr;  // kTableList only
  // The values allowed, bounds included, checked when the block is read: kInt and kDouble as
  // such (a kDouble is always finite), kDuration in nanoseconds, kSize in bytes.
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_excluded = false;  // min itself is not allowed (> min rather than >= min)
  bool zero_allowed = false;  // 0 ("none") is allowed besides [min, max]
  std::string_view choices;   // kString: the only values allowed, '|'-separated ("hold|linear")

  // This key allowing only [lo, hi]: ConfigKey{"maxQueued", Type::kInt, ...}.within(1, 1e7).
  [[nodiscard]] constexpr ConfigKey within(double lo, double hi) const {
    ConfigKey bounded = *this;
    bounded.min = lo;
    bounded.max = hi;
    return bounded;
  }
  // A number key allowing only values of at least lo: .atLeast(0).
  [[nodiscard]] constexpr ConfigKey atLeast(double lo) const {
    return within(lo, std::numeric_limits<double>::infinity());
  }
  // A number key allowing only values greater than lo (and at most its max): .above(0).
  [[nodiscard]] constexpr ConfigKey above(double lo) const {
    ConfigKey bounded = *this;
    bounded.min = lo;
    bounded.min_excluded = true;
    return bounded;
  }
  // A duration key allowing only [lo, hi]: .withinTime(1ms, 60s).
  [[nodiscard]] constexpr ConfigKey withinTime(
      std::chrono::nanoseconds lo,
      std::chrono::nanoseconds hi = std::chrono::nanoseconds::max()) const {
    return within(static_cast<double>(lo.count()), hi == std::chrono::nanoseconds::max()
                                                       ? std::numeric_limits<double>::infinity()
                                                       : static_cast<double>(hi.count()));
  }
  // 0 (meaning "none" or "no limit") allowed besides the range: .within(16 << 20, 1e12).orZero().
  [[nodiscard]] constexpr ConfigKey orZero() const {
    ConfigKey with_zero = *this;
    with_zero.zero_allowed = true;
    return with_zero;
  }
  // A string key allowing only these values: .oneOf("native|lambda").
  [[nodiscard]] constexpr ConfigKey oneOf(std::string_view alternatives) const {
    ConfigKey chosen = *this;
    chosen.choices = alternatives;
    return chosen;
  }
};

// Values of one component block, already checked against its table.
class ConfigValues {
 public:
  ConfigValues() = default;
  ConfigValues(std::string where, std::map<std::string, std::string, std::less<>> scalars,
               std::map<std::string, std::vector<std::string>, std::less<>> lists,
               std::map<std::string, std::vector<ConfigValues>, std::less<>> tables = {},
               std::map<std::string, std::map<std::string, std::string>, std::less<>> maps = {})
      : where_(std::move(where)),
        scalars_(std::move(scalars)),
        lists_(std::move(lists)),
        tables_(std::move(tables)),
        maps_(std::move(maps)) {}

  [[nodiscard]] bool has(std::string_view key) const;
  [[nodiscard]] std::string str(std::string_view key) const;
  [[nodiscard]] std::int64_t integer(std::string_view key) const;
  [[nodiscard]] double number(std::string_view key) const;
  [[nodiscard]] bool flag(std::string_view key) const;
  [[nodiscard]] std::chrono::nanoseconds duration(std::string_view key) const;
  [[nodiscard]] std::uint64_t bytes(std::string_view key) const;  // kSize
  [[nodiscard]] std::vector<std::string> list(std::string_view key) const;
  [[nodiscard]] std::vector<double> numbers(std::string_view key) const;             // kNumberList
  [[nodiscard]] std::map<std::string, std::string> map(std::string_view key) const;  // kStringMap
  // The entries of a kTableList key, each checked against its own table.
  [[nodiscard]] const std::vector<ConfigValues>& tables(std::string_view key) const;
  // Where the block was declared ("site.yaml:14"), for messages.
  [[nodiscard]] const std::string& where() const { return where_; }
  // An invalid-argument error located at this block.
  [[nodiscard]] tl::unexpected<Error> invalid(std::string message) const {
    return fail(Errc::kInvalidArgument, std::move(message), where_);
  }

 private:
  std::string where_;
  std::map<std::string, std::string, std::less<>> scalars_;
  std::map<std::string, std::vector<std::string>, std::less<>> lists_;
  std::map<std::string, std::vector<ConfigValues>, std::less<>> tables_;
  std::map<std::string, std::map<std::string, std::string>, std::less<>> maps_;
};

// The longest duration sie accepts anywhere (configuration, TTLs, token lifetimes): longer ones
// are typos, and a clock reading plus this much still fits in int64 nanoseconds (until 2170).
inline constexpr std::chrono::hours kMaxDuration{24 * 365 * 100};

// Parses durations such as "250ms", "10s", "1.5m", "2h", "500us", "0", up to kMaxDuration.
Result<std::chrono::nanoseconds> parseDuration(std::string_view text);

// Parses sizes such as "65536", "512K", "256Mi", "1Gi" (K, M, G, T: powers of 1000; Ki, Mi, Gi,
// Ti: powers of 1024) into bytes.
Result<std::uint64_t> parseSize(std::string_view text);

}  // namespace sie
