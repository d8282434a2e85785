#include "runtime/keep_alive.h"

#include <algorithm>

namespace sie::node {

KeepAlivePolicy::KeepAlivePolicy(std::chrono::nanoseconds idle_timeout)
    : idle_timeout_(idle_timeout),
      bin_(std::max(idle_timeout / 60, std::chrono::nanoseconds(std::chrono::milliseconds(1)))),
      counts_(kBins, 0) {}

void KeepAlivePolicy::record(std::chrono::nanoseconds idle) {
  ++samples_;
  const auto bin = idle / bin_;
  if (bin >= kBins) {
    ++out_of_range_;
  } else {
    ++counts_[static_cast<std::size_t>(std::max<std::int64_t>(bin, 0))];
  }
  update();
}

void KeepAlivePolicy::update() {
  const std::size_t in_range = samples_ - out_of_range_;
  if (samples_ < kMinSamples ||
      static_cast<double>(out_of_range_) > kMaxOutOfRange * static_cast<double>(samples_)) {
    windows_ = {};
    return;
  }
  // Percentiles over the in-range idle times, as bin edges: the head's lower edge, the tail's
  // upper edge.
  auto percentile_bin = [&](double p) {
    const auto rank = static_cast<std::size_t>(p * static_cast<double>(in_range));
    std::size_t seen = 0;
    for (int b = 0; b < kBins; ++b) {
      seen += counts_[static_cast<std::size_t>(b)];
      if (seen > rank) return b;
    }
    return kBins - 1;
  };
  const auto head = bin_ * percentile_bin(0.05);
  const auto tail = bin_ * (percentile_bin(0.99) + 1);
  Windows w;
  w.learned = true;
  w.prewarm = std::chrono::duration_cast<std::chrono::nanoseconds>(head * (1.0 - kMargin));
  w.keep_alive =
      std::chrono::duration_cast<std::chrono::nanoseconds>(tail * (1.0 + kMargin)) - w.prewarm;
  windows_ = w;
}

bool KeepAlivePolicy::wantLoaded(std::chrono::nanoseconds idle_for) const {
  if (!windows_.learned) return idle_for < idle_timeout_;
  return idle_for >= windows_.prewarm && idle_for < windows_.prewarm + windows_.keep_alive;
}

}  // namespace sie::node
