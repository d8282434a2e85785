// RateLimiter: a token bucket per caller. Each caller may make `burst` calls at once and
// `per_second` a second after that; a caller over its rate learns how long to wait. Buckets of
// callers that went quiet (refilled to the burst) are dropped, so the table holds at most about
// twice the callers active within a refill time. The sweep runs when the table has doubled since
// the last one, so a flood of new callers costs amortized constant time per call, not a scan of
// the whole table each.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sie/clock.h"

namespace sie::security {

class RateLimiter {
 public:
  // per_second <= 0: no limit.
  RateLimiter(double per_second, double burst, const Clock& clock);

  // Whether `caller` may make a call now (and takes it); when not, `retry_after_s` is how long
  // until it may.
  bool allow(std::string_view caller, double& retry_after_s);

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t updated_ns = 0;
  };
  static constexpr std::size_t kMaxCallers = 10'000;

  const double per_second_;
  const double burst_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::size_t sweep_at_ = kMaxCallers;  // the table size that triggers the next sweep
};

}  // namespace sie::security
