// RateLimiter: a token bucket per caller. Each caller may make `burst` calls at once and
// `per_second` a second after that; a caller over its rate learns how long to wait. Buckets of
// callers that went quiet are dropped, so the table stays bounded whatever callers come and go.
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
};

}  // namespace sie::security
