// How the Redis backend lays out its data under a key prefix (one prefix per site):
//   <prefix>:ts:<sensor>       stream; entry id from the reading's timestamp, fields v (values,
//                              comma-separated) and q (quality)
//   <prefix>:kv:<key>          string, with PXAT expiry when the write has a TTL
//   <prefix>:dl:<origin-id>    hash per dead letter (id, ts, origin, reason, subject, payload)
//   <prefix>:dl:index          sorted set of dead-letter keys by id
//   <prefix>:dl:next           dead-letter id counter
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sie::state::redis {

struct Keys {
  std::string prefix;

  [[nodiscard]] std::string series(std::string_view sensor) const {
    return prefix + ":ts:" + std::string(sensor);
  }
  [[nodiscard]] std::string kv(std::string_view key) const {
    return prefix + ":kv:" + std::string(key);
  }
  [[nodiscard]] std::string deadLetter(std::string_view unique) const {
    return prefix + ":dl:" + std::string(unique);
  }
  [[nodiscard]] std::string deadLetterIndex() const { return prefix + ":dl:index"; }
  [[nodiscard]] std::string deadLetterCounter() const { return prefix + ":dl:next"; }
};

// Stream entry ids carry the full nanosecond timestamp: <ms>-<ns within the ms + 1> (Redis
// refuses id 0-0). Timestamps must not be negative.
std::string streamId(std::int64_t ts_ns);
std::optional<std::int64_t> parseStreamId(std::string_view id);

}  // namespace sie::state::redis
