#include "runtime/version_stats.h"

#include <cmath>

namespace sie::node {

int VersionStats::bucketOf(std::int64_t duration_ns) {
  const double us = static_cast<double>(duration_ns) * 1e-3;
  if (us < kFirstUs) return 0;
  const int b = static_cast<int>(std::ceil(4.0 * std::log2(us / kFirstUs)));
  return b >= kBuckets ? kBuckets - 1 : b;
}

double VersionStats::upperMs(int bucket) {
  return kFirstUs * std::exp2(static_cast<double>(bucket) / 4.0) * 1e-3;
}

void VersionStats::record(std::int64_t duration_ns, bool failed) {
  invocations_.fetch_add(1, std::memory_order_relaxed);
  if (failed) errors_.fetch_add(1, std::memory_order_relaxed);
  buckets_[bucketOf(duration_ns)].fetch_add(1, std::memory_order_relaxed);
}

double VersionStats::quantileMs(double q, std::uint64_t total) const {
  if (total == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) return upperMs(i);
  }
  return upperMs(kBuckets - 1);
}

VersionStats::Snapshot VersionStats::snapshot() const {
  Snapshot s;
  s.invocations = invocations_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  std::uint64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  s.p50_ms = quantileMs(0.5, total);
  s.p99_ms = quantileMs(0.99, total);
  return s;
}

}  // namespace sie::node
