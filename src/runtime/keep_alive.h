// When to keep a function's instances loaded while it is idle, learned from its own idle times:
// the hybrid histogram policy of Shahrad et al., "Serverless in the Wild" (USENIX ATC 2020).
//
// Each idle time (end of the last invocation to the next arrival) goes into a histogram of
// idleTimeout/60-wide bins spanning 24 idle timeouts. Once it holds enough samples, and they
// mostly fall inside its range, the policy unloads right after an invocation and reloads at
// the pre-warm window (the 5th percentile of idle times, less a margin), keeping the instance
// until the 99th percentile (plus a margin): a periodic function is loaded just before it is
// needed instead of idling through a fixed keep-alive. Otherwise (too few samples, idle times
// beyond the range) it keeps the fixed keep-alive, scaling.idleTimeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "sie/function.h"

namespace sie::node {

class KeepAlivePolicy {
 public:
  struct Windows {
    bool learned = false;                    // false: fixed keep-alive of idle_timeout
    std::chrono::nanoseconds prewarm{0};     // unloaded for this long after going idle
    std::chrono::nanoseconds keep_alive{0};  // then loaded for this long
  };
  static constexpr int kBins = 24 * 60;
  static constexpr std::size_t kMinSamples = 8;
  static constexpr double kMaxOutOfRange = 0.5;  // share of idle times beyond the range
  static constexpr double kMargin = 0.10;

  explicit KeepAlivePolicy(std::chrono::nanoseconds idle_timeout);

  // An arrival after the function was idle for `idle`.
  void record(std::chrono::nanoseconds idle);
  [[nodiscard]] Windows windows() const { return windows_; }
  // Whether an instance should be loaded `idle_for` after the function went idle (min aside).
  [[nodiscard]] bool wantLoaded(std::chrono::nanoseconds idle_for) const;

 private:
  void update();

  std::chrono::nanoseconds idle_timeout_;
  std::chrono::nanoseconds bin_;
  std::vector<std::uint32_t> counts_;
  std::size_t samples_ = 0;
  std::size_t out_of_range_ = 0;
  Windows windows_;
};

}  // namespace sie::node
