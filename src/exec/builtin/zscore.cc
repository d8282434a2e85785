// zscore: how many standard deviations the reading lies from the mean of its recent history
// (sample standard deviation). Score |z|; labels spike (above) and dip (below).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "exec/builtin/handler.h"
#include "exec/builtin/readings.h"
#include "exec/builtin/spec_check.h"

namespace sie::builtin {
namespace {

class Zscore final : public Handler {
 public:
  explicit Zscore(const Params& p)
      : threshold_(p.at("threshold")),
        min_samples_(static_cast<std::size_t>(p.at("min_samples"))),
        min_std_(p.at("min_std")) {}

  Result<Output> invoke(const Invocation& call) const override {
    // Sums shifted by the first value: one pass, no division per sample, and no cancellation
    // when the values sit far from zero.
    std::size_t n = 0;
    double shift = 0.0;
    double sum = 0.0;
    double sum_sq = 0.0;
    if (auto it = call.windows.find("history"); it != call.windows.end()) {
      for (const Sample& s : it->second) {
        const auto v = usableValue(s);
        if (!v) continue;
        if (n++ == 0) shift = *v;
        const double d = *v - shift;
        sum += d;
        sum_sq += d * d;
      }
    }
    if (n < min_samples_) {
      return notScored(kWarmingUp,
                       fmt::format("{} usable readings in history, need {}", n, min_samples_));
    }
    const double x = readingValue(call.reading.values);
    const auto count = static_cast<double>(n);
    const double mean = shift + sum / count;
    const double var = std::max(0.0, (sum_sq - sum * sum / count) / (count - 1));
    const double std_dev = std::max(std::sqrt(var), min_std_);
    const double z = (x - mean) / std_dev;
    const bool anomaly = std::abs(z) > threshold_;
    const std::string_view label = !anomaly ? kNormal : (z > 0 ? "spike" : "dip");
    return decide(
        std::abs(z), anomaly, label,
        fmt::format("z={:.3g} (x={:.6g}, mean={:.6g}, std={:.3g}, n={}, threshold {:.3g})", z, x,
                    mean, std_dev, n, threshold_));
  }

 private:
  double threshold_;
  std::size_t min_samples_;
  double min_std_;
};

Status check(const FunctionSpec& spec, const Params& params) {
  const auto min_samples = static_cast<std::size_t>(params.at("min_samples"));
  const InputBinding* history = findBinding(spec, "history");
  if (history->last < min_samples) {
    return fail(Errc::kInvalidArgument,
                fmt::format("spec.inputs.history.last must be >= spec.params.min_samples ({} < {})",
                            history->last, min_samples));
  }
  return ok();
}

}  // namespace

Status registerZscore(HandlerTable& table) {
  HandlerDef def;
  def.params = {
      {.name = "threshold",
       .fallback = 3.0,
       .min = 0.0,
       .min_open = true,
       .description = "anomaly when |z| exceeds it"},
      {.name = "min_samples",
       .fallback = 10.0,
       .min = 2.0,
       .integer = true,
       .description = "usable history readings needed before scoring"},
      {.name = "min_std",
       .fallback = 1e-9,
       .min = 0.0,
       .min_open = true,
       .description = "floor of the standard deviation, in the reading's units"},
  };
  def.bindings = {{.name = "history",
                   .kind = InputBinding::Kind::kWindow,
                   .min_last = 2,
                   .description = "the newest readings of the sensor, e.g. last: 60"}};
  def.check = check;
  def.make = [](const FunctionSpec&, const Params& p) { return std::make_unique<Zscore>(p); };
  return table.add("zscore", std::move(def));
}

}  // namespace sie::builtin
