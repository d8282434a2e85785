#include "security/rate_limiter.h"

#include <algorithm>

namespace sie::security {

RateLimiter::RateLimiter(double per_second, double burst, const Clock& clock)
    : per_second_(per_second), burst_(std::max(1.0, burst)), clock_(clock) {}

bool RateLimiter::allow(std::string_view caller, double& retry_after_s) {
  if (per_second_ <= 0) return true;
  const std::int64_t now = clock_.monotonicNs();
  std::lock_guard lock(mu_);
  if (buckets_.size() >= sweep_at_) {
    // Full buckets hold nothing worth keeping: their callers start full again anyway.
    std::erase_if(buckets_, [&](const auto& entry) {
      const Bucket& b = entry.second;
      return b.tokens + static_cast<double>(now - b.updated_ns) * 1e-9 * per_second_ >= burst_;
    });
    sweep_at_ = std::max(kMaxCallers, 2 * buckets_.size());
  }
  auto [it, fresh] = buckets_.try_emplace(std::string(caller), Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens =
        std::min(burst_, b.tokens + static_cast<double>(now - b.updated_ns) * 1e-9 * per_second_);
    b.updated_ns = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  retry_after_s = (1.0 - b.tokens) / per_second_;
  return false;
}

}  // namespace sie::security
