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
  // kTableList: a list of maps, each checked against the table `fields` returns.
  enum class Type { kString, kInt, kDouble, kBool, kDuration, kStringList, kTableList };
  std::string_view name;
  Type type = Type::kString;
  std::string_view fallback;  // default as text; "" with required = false means "unset"
  std::string_view description;
  bool required = false;
  std::span<const ConfigKey> (*fields)() = nullptr;  // kTableList only
  // kInt and kDouble: the values allowed, bounds included; checked when the block is read.
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();

  // This key allowing only [lo, hi]: ConfigKey{"maxQueued", Type::kInt, ...}.within(1, 1e7).
  [[nodiscard]] constexpr ConfigKey within(double lo, double hi) const {
    ConfigKey bounded = *this;
    bounded.min = lo;
    bounded.max = hi;
    return bounded;
  }
};

// Values of one component block, already checked against its table.
class ConfigValues {
 public:
  ConfigValues() = default;
  ConfigValues(std::string where, std::map<std::string, std::string, std::less<>> scalars,
               std::map<std::string, std::vector<std::string>, std::less<>> lists,
               std::map<std::string, std::vector<ConfigValues>, std::less<>> tables = {})
      : where_(std::move(where)),
        scalars_(std::move(scalars)),
        lists_(std::move(lists)),
        tables_(std::move(tables)) {}

  [[nodiscard]] bool has(std::string_view key) const;
  [[nodiscard]] std::string str(std::string_view key) const;
  [[nodiscard]] std::int64_t integer(std::string_view key) const;
  [[nodiscard]] double number(std::string_view key) const;
  [[nodiscard]] bool flag(std::string_view key) const;
  [[nodiscard]] std::chrono::nanoseconds duration(std::string_view key) const;
  [[nodiscard]] std::vector<std::string> list(std::string_view key) const;
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
};

// The longest duration sie accepts anywhere (configuration, TTLs, token lifetimes): longer ones
// are typos, and a clock reading plus this much still fits in int64 nanoseconds (until 2170).
inline constexpr std::chrono::hours kMaxDuration{24 * 365 * 100};

// Parses durations such as "250ms", "10s", "1.5m", "2h", "500us", "0", up to kMaxDuration.
Result<std::chrono::nanoseconds> parseDuration(std::string_view text);

}  // namespace sie
