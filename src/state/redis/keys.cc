#include "state/redis/keys.h"

#include <charconv>

#include <fmt/format.h>

namespace sie::state::redis {

std::string streamId(std::int64_t ts_ns) {
  return fmt::format("{}-{}", ts_ns / 1'000'000, ts_ns % 1'000'000 + 1);
}

std::optional<std::int64_t> parseStreamId(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::int64_t ms = 0;
  std::int64_t seq = 0;
  const char* end = id.data() + id.size();
  if (std::from_chars(id.data(), id.data() + dash, ms).ptr != id.data() + dash ||
      std::from_chars(id.data() + dash + 1, end, seq).ptr != end || seq < 1 || seq > 1'000'000) {
    return std::nullopt;
  }
  return ms * 1'000'000 + seq - 1;
}

}  // namespace sie::state::redis
