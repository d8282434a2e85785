// VersionStats: invocations, failures and a latency histogram of one function version, kept by
// its runner for rollouts (canary and shadow objectives, comparisons). Lock-free: updated from
// dispatcher workers, read by the scaler's tick and the API.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace sie::node {

class VersionStats {
 public:
  struct Snapshot {
    std::uint64_t invocations = 0;
    std::uint64_t errors = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    [[nodiscard]] double errorRate() const {
      return invocations == 0 ? 0.0
                              : static_cast<double>(errors) / static_cast<double>(invocations);
    }
  };

  void record(std::int64_t duration_ns, bool failed);
  [[nodiscard]] Snapshot snapshot() const;

 private:
  // Bucket i holds durations below kFirstUs * 2^(i/4) µs: about 19 % resolution from 1 µs to
  // beyond a minute.
  static constexpr int kBuckets = 112;
  static constexpr double kFirstUs = 1.0;
  static int bucketOf(std::int64_t duration_ns);
  static double upperMs(int bucket);
  [[nodiscard]] double quantileMs(double q, std::uint64_t total) const;

  std::atomic<std::uint64_t> invocations_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
};

}  // namespace sie::node
