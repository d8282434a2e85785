#include "gateway/median_filter.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

namespace sie::gateway {
namespace {

struct Window final : FilterState {
  std::vector<double> ring;  // raw values, oldest overwritten first
  std::size_t next = 0;
  std::vector<double> scratch;  // reused for the order statistics
};

// Median of `v` (reordered in place); the mean of the two middle values for an even size.
double median(std::vector<double>& v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2 == 1) return *mid;
  return (*mid + *std::max_element(v.begin(), mid)) / 2.0;
}

}  // namespace

MedianFilter::MedianFilter(std::size_t window, double k)
    : window_(window),
      k_(k),
      replaced_(metrics().counter("sie_gateway_replaced_total",
                                  "Readings whose value a gateway filter replaced",
                                  {{"filter", "median"}})) {}

std::unique_ptr<FilterState> MedianFilter::newState() const {
  auto state = std::make_unique<Window>();
  state->ring.reserve(window_);
  state->scratch.reserve(window_);
  return state;
}

Filter::Verdict MedianFilter::apply(FilterState& state, Telemetry& reading) const {
  auto& w = static_cast<Window&>(state);
  const double x = reading.value();
  if (w.ring.size() < window_) {
    w.ring.push_back(x);
  } else {
    w.ring[w.next] = x;
  }
  w.next = (w.next + 1) % window_;
  if (w.ring.size() < window_) return Verdict::kPass;

  w.scratch.assign(w.ring.begin(), w.ring.end());
  const double center = median(w.scratch);
  for (double& v : w.scratch) v = std::fabs(v - center);
  const double sigma = 1.4826 * median(w.scratch);
  if (std::fabs(x - center) > k_ * sigma) {
    reading.values.front() = center;
    reading.quality = std::max(reading.quality, Quality::kUncertain);
    reading.flag = fmt::format("spike replaced by window median (raw {})", x);
    replaced_.inc();
  }
  return Verdict::kPass;
}

}  // namespace sie::gateway
