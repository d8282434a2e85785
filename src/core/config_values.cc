#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>

#include "sie/config.h"

namespace sie {

bool ConfigValues::has(std::string_view key) const {
  return scalars_.contains(key) || lists_.contains(key) || tables_.contains(key) ||
         maps_.contains(key);
}

const std::vector<ConfigValues>& ConfigValues::tables(std::string_view key) const {
  static const std::vector<ConfigValues> kNone;
  auto it = tables_.find(key);
  return it == tables_.end() ? kNone : it->second;
}

std::string ConfigValues::str(std::string_view key) const {
  auto it = scalars_.find(key);
  return it == scalars_.end() ? std::string() : it->second;
}

std::int64_t ConfigValues::integer(std::string_view key) const {
  const std::string text = str(key);
  std::int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

double ConfigValues::number(std::string_view key) const {
  const std::string text = str(key);
  double v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

bool ConfigValues::flag(std::string_view key) const {
  const std::string text = str(key);
  return text == "true" || text == "yes" || text == "on" || text == "1";
}

std::chrono::nanoseconds ConfigValues::duration(std::string_view key) const {
  auto d = parseDuration(str(key));
  return d ? *d : std::chrono::nanoseconds{0};
}

std::uint64_t ConfigValues::bytes(std::string_view key) const {
  auto size = parseSize(str(key));
  return size ? *size : 0;
}

std::vector<std::string> ConfigValues::list(std::string_view key) const {
  auto it = lists_.find(key);
  return it == lists_.end() ? std::vector<std::string>() : it->second;
}

std::vector<double> ConfigValues::numbers(std::string_view key) const {
  std::vector<double> out;
  for (const std::string& text : list(key)) {
    double v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    out.push_back(v);
  }
  return out;
}

std::map<std::string, std::string> ConfigValues::map(std::string_view key) const {
  auto it = maps_.find(key);
  return it == maps_.end() ? std::map<std::string, std::string>() : it->second;
}

Result<std::chrono::nanoseconds> parseDuration(std::string_view text) {
  double amount = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
  if (ec != std::errc() || text.empty() || !std::isfinite(amount) || amount < 0) {
    return fail(
        Errc::kInvalidArgument,
        "'" + std::string(text) + "' is not a duration (use e.g. 500us, 250ms, 10s, 5m, 2h)");
  }
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  double scale = 0;
  if (unit == "ns")
    scale = 1;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "s" || (unit.empty() && amount == 0))
    scale = 1e9;
  else if (unit == "m")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  else {
    return fail(Errc::kInvalidArgument,
                "'" + std::string(text) + "' has no known unit (use ns, us, ms, s, m or h)");
  }
  const double ns = amount * scale;
  if (ns > static_cast<double>(std::chrono::nanoseconds(kMaxDuration).count())) {
    return fail(Errc::kInvalidArgument,
                "'" + std::string(text) + "' is longer than the 100 years (876000h) sie allows");
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
}

Result<std::uint64_t> parseSize(std::string_view text) {
  auto bad = [&] {
    return fail(Errc::kInvalidArgument,
                "'" + std::string(text) + "' is not a size (use e.g. 65536, 512K, 256Mi or 1Gi)");
  };
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data()) return bad();
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {{"", 1},
                                                                          {"K", 1000},
                                                                          {"M", 1000'000},
                                                                          {"G", 1000'000'000},
                                                                          {"T", 1000'000'000'000},
                                                                          {"Ki", 1ULL << 10},
                                                                          {"Mi", 1ULL << 20},
                                                                          {"Gi", 1ULL << 30},
                                                                          {"Ti", 1ULL << 40}};
  for (const auto& [name, scale] : kUnits) {
    if (unit != name) continue;
    if (n > UINT64_MAX / scale) return bad();
    return n * scale;
  }
  return bad();
}

}  // namespace sie
