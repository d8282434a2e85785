// adaptive_threshold: exponentially weighted mean and variance kept in the state layer (kv
// bindings mean, var, n); anomaly when the reading is more than k standard deviations away.
//
// The first readings are weighted equally (weight max(alpha, 1/n)), so the baseline is the plain
// mean and variance of what was seen until 1/n drops below alpha. An anomalous reading leaves the
// variance alone and moves the mean by at most alpha * k * std (its deviation clipped to k std):
// one spike barely shifts the baseline, while a lasting level shift is absorbed over time (slowly
// when std sits at min_std, so set min_std to the sensor's resolution for step-like signals).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "exec/builtin/handler.h"
#include "exec/builtin/readings.h"
#include "exec/builtin/spec_check.h"

namespace sie::builtin {
namespace {

struct Baseline {
  double mean = 0.0;
  double var = 0.0;
  double n = 0.0;  // readings absorbed so far
};

class AdaptiveThreshold final : public Handler {
 public:
  AdaptiveThreshold(const FunctionSpec& spec, const Params& p)
      : alpha_(p.at("alpha")),
        k_(p.at("k")),
        warmup_(p.at("warmup")),
        min_std_(p.at("min_std")),
        mean_key_(findBinding(spec, "mean")->key),
        var_key_(findBinding(spec, "var")->key),
        n_key_(findBinding(spec, "n")->key) {}

  Result<Output> invoke(const Invocation& call) const override {
    const double x = readingValue(call.reading.values);
    const auto state = stored(call.values);
    Baseline b = state.value_or(Baseline{});
    Output out;
    if (b.n < warmup_) {
      absorb(b, x);
      out = notScored(kWarmingUp, fmt::format("{}baseline from {} of {} readings",
                                              state ? "" : "new ", b.n, warmup_));
    } else {
      const double std_dev = std::max(std::sqrt(b.var), min_std_);
      const double dev = x - b.mean;
      const double score = std::abs(dev) / std_dev;
      const bool anomaly = score > k_;
      const std::string detail =
          fmt::format("{:.6g} is {:.3g} std from mean {:.6g} (std {:.3g}, k {})", x, score, b.mean,
                      std_dev, k_);
      if (anomaly) {
        b.mean += alpha_ * std::clamp(dev, -k_ * std_dev, k_ * std_dev);
        b.n += 1.0;
      } else {
        absorb(b, x);
      }
      out = decide(score, anomaly, !anomaly ? kNormal : (dev > 0 ? "high" : "low"), detail);
    }
    out.kv_writes = {
        {mean_key_, exactText(b.mean)}, {var_key_, exactText(b.var)}, {n_key_, exactText(b.n)}};
    return out;
  }

 private:
  // The stored baseline, or nullopt when any part is absent or unusable (it is then rebuilt from
  // scratch rather than trusted in part).
  static std::optional<Baseline> stored(const std::map<std::string, double, std::less<>>& values) {
    auto get = [&](std::string_view name) -> std::optional<double> {
      auto it = values.find(name);
      if (it == values.end() || !std::isfinite(it->second)) return std::nullopt;
      return it->second;
    };
    const auto mean = get("mean");
    const auto var = get("var");
    const auto n = get("n");
    if (!mean || !var || !n || *var < 0 || *n < 0 || *n != std::trunc(*n)) return std::nullopt;
    return Baseline{*mean, *var, *n};
  }

  // Incremental EWMA of mean and variance (Finch, "Incremental calculation of weighted mean and
  // variance", 2009).
  void absorb(Baseline& b, double x) const {
    b.n += 1.0;
    const double a = std::max(alpha_, 1.0 / b.n);
    const double diff = x - b.mean;
    const double incr = a * diff;
    b.mean += incr;
    b.var = (1.0 - a) * (b.var + diff * incr);
  }

  double alpha_;
  double k_;
  double warmup_;
  double min_std_;
  std::string mean_key_;
  std::string var_key_;
  std::string n_key_;
};

}  // namespace

Status registerAdaptiveThreshold(HandlerTable& table) {
  HandlerDef def;
  def.params = {
      {.name = "alpha",
       .fallback = 0.05,
       .min = 0.0,
       .min_open = true,
       .max = 1.0,
       .description = "EWMA weight of the newest reading"},
      {.name = "k",
       .fallback = 4.0,
       .min = 0.0,
       .min_open = true,
       .description = "anomaly when the reading is more than k standard deviations from the mean"},
      {.name = "warmup",
       .fallback = 20.0,
       .min = 1.0,
       .integer = true,
       .description = "readings absorbed before scoring starts"},
      {.name = "min_std",
       .fallback = 1e-9,
       .min = 0.0,
       .min_open = true,
       .description = "floor of the standard deviation, in the reading's units"},
  };
  def.bindings = {
      {.name = "mean",
       .kind = InputBinding::Kind::kKv,
       .description = "EWMA mean, e.g. key baseline/{function}/{sensor}/mean"},
      {.name = "var",
       .kind = InputBinding::Kind::kKv,
       .description = "EWMA variance, e.g. key baseline/{function}/{sensor}/var"},
      {.name = "n",
       .kind = InputBinding::Kind::kKv,
       .description = "readings absorbed, e.g. key baseline/{function}/{sensor}/n"},
  };
  def.make = [](const FunctionSpec& spec, const Params& p) {
    return std::make_unique<AdaptiveThreshold>(spec, p);
  };
  return table.add("adaptive_threshold", std::move(def));
}

}  // namespace sie::builtin
