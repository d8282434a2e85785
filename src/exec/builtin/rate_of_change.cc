// rate_of_change: change per second against the newest usable reading of the history window.
// Labels rising / falling; score = |rate| / max_rate.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include "exec/builtin/handler.h"
#include "exec/builtin/readings.h"

namespace sie::builtin {
namespace {

class RateOfChange final : public Handler {
 public:
  explicit RateOfChange(const Params& p) : max_rate_(p.at("max_rate")) {}

  Result<Output> invoke(const Invocation& call) const override {
    const Sample* prev = nullptr;
    if (auto it = call.windows.find("history"); it != call.windows.end()) {
      // The window is ordered oldest first.
      const auto& history = it->second;
      auto newest = std::find_if(history.rbegin(), history.rend(),
                                 [](const Sample& s) { return usableValue(s).has_value(); });
      if (newest != history.rend()) prev = &*newest;
    }
    if (prev == nullptr) return notScored(kWarmingUp, "no usable previous reading in history");
    if (call.reading.ts_ns <= prev->ts_ns) {
      return notScored("out-of-order",
                       fmt::format("timestamp {} ns is not after the previous reading's {} ns",
                                   call.reading.ts_ns, prev->ts_ns));
    }
    // Unsigned: the difference of two int64 timestamps may not fit an int64.
    const std::uint64_t dt_ns =
        static_cast<std::uint64_t>(call.reading.ts_ns) - static_cast<std::uint64_t>(prev->ts_ns);
    const double x = readingValue(call.reading.values);
    const double dt = static_cast<double>(dt_ns) / 1e9;
    const double rate = (x - *usableValue(*prev)) / dt;
    const bool anomaly = std::abs(rate) > max_rate_;
    const std::string_view label = !anomaly ? kNormal : (rate > 0 ? "rising" : "falling");
    return decide(
        std::abs(rate) / max_rate_, anomaly, label,
        fmt::format("rate {:.4g}/s over {:.4g} s (max_rate {:.4g}/s)", rate, dt, max_rate_));
  }

 private:
  double max_rate_;
};

}  // namespace

Status registerRateOfChange(HandlerTable& table) {
  HandlerDef def;
  def.params = {
      {.name = "max_rate",
       .need = ParamSpec::Need::kRequired,
       .min = 0.0,
       .min_open = true,
       .description = "largest normal |change| per second, in the reading's units"},
  };
  def.bindings = {{.name = "history",
                   .kind = InputBinding::Kind::kWindow,
                   .min_last = 1,
                   .description = "the previous readings of the sensor, e.g. last: 1"}};
  def.make = [](const FunctionSpec&, const Params& p) { return std::make_unique<RateOfChange>(p); };
  return table.add("rate_of_change", std::move(def));
}

}  // namespace sie::builtin
