// threshold: static limits, optionally overridden per asset by kv bindings `min` / `max`. Labels
// high / low; score = distance outside the band / band width (with one limit: / |limit|, or / 1
// when the limit is 0), 0 inside. A reading equal to a limit is inside.
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "exec/builtin/handler.h"
#include "exec/builtin/readings.h"
#include "exec/builtin/spec_check.h"

namespace sie::builtin {
namespace {

class Threshold final : public Handler {
 public:
  explicit Threshold(const Params& p)
      : min_(optionalParam(p, "min")), max_(optionalParam(p, "max")) {}

  Result<Output> invoke(const Invocation& call) const override {
    auto limit = [&](std::string_view name, std::optional<double> fallback) {
      auto it = call.values.find(name);
      return it == call.values.end() ? fallback : std::optional<double>(it->second);
    };
    const std::optional<double> lo = limit("min", min_);
    const std::optional<double> hi = limit("max", max_);
    // Limits from the state layer are data, not config: a broken one is an error to fix, never
    // a silent pass.
    if ((lo && !std::isfinite(*lo)) || (hi && !std::isfinite(*hi))) {
      return fail(Errc::kInvalidArgument, "limit from the state layer is not a finite number");
    }
    if (lo && hi && *lo >= *hi) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("limits are inconsistent: min {} >= max {}", *lo, *hi));
    }
    const double x = readingValue(call.reading.values);
    // Distance outside the band relative to its width; with one limit, relative to its size.
    double scale = 1.0;
    if (lo && hi) {
      scale = *hi - *lo;
    } else if (const double one = lo ? *lo : *hi; one != 0.0) {
      scale = std::abs(one);
    }
    if (hi && x > *hi) {
      return decide((x - *hi) / scale, true, "high", fmt::format("{:.6g} > max {:.6g}", x, *hi));
    }
    if (lo && x < *lo) {
      return decide((*lo - x) / scale, true, "low", fmt::format("{:.6g} < min {:.6g}", x, *lo));
    }
    return decide(0.0, false, kNormal,
                  fmt::format("{:.6g} within [{}, {}]", x, lo ? fmt::format("{:.6g}", *lo) : "-inf",
                              hi ? fmt::format("{:.6g}", *hi) : "+inf"));
  }

 private:
  std::optional<double> min_;
  std::optional<double> max_;
};

Status check(const FunctionSpec&, const Params& params) {
  const auto lo = optionalParam(params, "min");
  const auto hi = optionalParam(params, "max");
  if (!lo && !hi) {
    return fail(Errc::kInvalidArgument, "spec.params needs min, max or both");
  }
  if (lo && hi && *lo >= *hi) {
    return fail(Errc::kInvalidArgument,
                fmt::format("spec.params.min must be < spec.params.max (got {} >= {})", *lo, *hi));
  }
  return ok();
}

}  // namespace

Status registerThreshold(HandlerTable& table) {
  HandlerDef def;
  def.params = {
      {.name = "min", .need = ParamSpec::Need::kOptional, .description = "lower limit"},
      {.name = "max", .need = ParamSpec::Need::kOptional, .description = "upper limit"},
  };
  def.bindings = {
      {.name = "min",
       .kind = InputBinding::Kind::kKv,
       .required = false,
       .description = "per-asset lower limit, e.g. key limits/{sensor}/min"},
      {.name = "max",
       .kind = InputBinding::Kind::kKv,
       .required = false,
       .description = "per-asset upper limit, e.g. key limits/{sensor}/max"},
  };
  def.check = check;
  def.make = [](const FunctionSpec&, const Params& p) { return std::make_unique<Threshold>(p); };
  return table.add("threshold", std::move(def));
}

}  // namespace sie::builtin
