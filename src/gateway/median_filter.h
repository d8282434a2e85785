// Spike filter (Hampel): keeps the sensor's last `window` raw values; when the window is full
// and |x - median| > k * 1.4826 * MAD (the MAD scaled to a standard deviation of normal noise),
// x is replaced by the median, quality drops to uncertain and the flag names the raw value.
// Replacements are counted in sie_gateway_replaced_total{filter="median"}. Never drops.
#pragma once

#include "gateway/filter.h"
#include "sie/metrics.h"

namespace sie::gateway {

class MedianFilter final : public Filter {
 public:
  MedianFilter(std::size_t window, double k);
  [[nodiscard]] std::string_view name() const override { return "median"; }
  [[nodiscard]] std::unique_ptr<FilterState> newState() const override;
  Verdict apply(FilterState& state, Telemetry& reading) const override;

 private:
  std::size_t window_;
  double k_;
  Counter& replaced_;
};

}  // namespace sie::gateway
