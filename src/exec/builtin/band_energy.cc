// band_energy: RMS of a vibration block within a frequency band, absolute and as a share of the
// block's total energy. Label band-energy when either configured limit is exceeded.
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "exec/builtin/band_power.h"
#include "exec/builtin/handler.h"
#include "exec/builtin/readings.h"
#include "exec/builtin/spec_check.h"

namespace sie::builtin {
namespace {

// Fewer samples give bins too wide to tell bands apart.
constexpr std::size_t kMinBlock = 16;

class BandEnergy final : public Handler {
 public:
  explicit BandEnergy(const Params& p)
      : low_hz_(p.at("band_low_hz")),
        high_hz_(p.at("band_high_hz")),
        threshold_(optionalParam(p, "threshold")),
        ratio_threshold_(optionalParam(p, "ratio_threshold")) {}

  // A block that does not fit the band (no sample period, too short, band above Nyquist) is an
  // error: the function is bound to the wrong sensor or configured for another sample rate.
  Result<Output> invoke(const Invocation& call) const override {
    const Telemetry& r = call.reading;
    if (r.sample_period_ns <= 0) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("reading of '{}' is not a sample block (sample_period_ns {})",
                              r.sensor.str(), r.sample_period_ns));
    }
    if (r.values.size() < kMinBlock) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("block of {} samples from '{}' is too short (need >= {})",
                              r.values.size(), r.sensor.str(), kMinBlock));
    }
    const double rate_hz = 1e9 / static_cast<double>(r.sample_period_ns);
    if (high_hz_ > rate_hz / 2) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("band {}-{} Hz reaches above the Nyquist frequency {} Hz of '{}'",
                              low_hz_, high_hz_, rate_hz / 2, r.sensor.str()));
    }
    const BandPower power = SIE_TRY(bandPower(r.values, rate_hz, low_hz_, high_hz_));
    if (power.bins == 0) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("band {}-{} Hz holds no FFT bin at {} samples (bins {:.4g} Hz apart)",
                              low_hz_, high_hz_, r.values.size(),
                              rate_hz / static_cast<double>(r.values.size())));
    }
    const double rms = std::sqrt(power.band);
    const double ratio = power.total > 0 ? power.band / power.total : 0.0;
    // Score: the larger of the configured tests, each relative to its limit, so score > 1 exactly
    // when the decision is an anomaly.
    double score = 0.0;
    if (threshold_) score = rms / *threshold_;
    if (ratio_threshold_) score = std::max(score, ratio / *ratio_threshold_);
    const bool anomaly = score > 1.0;
    return decide(
        score, anomaly, anomaly ? "band-energy" : kNormal,
        fmt::format("{}-{} Hz: rms {:.4g}{}, ratio {:.3f}{}", low_hz_, high_hz_, rms,
                    threshold_ ? fmt::format(" (threshold {:.4g})", *threshold_) : "", ratio,
                    ratio_threshold_ ? fmt::format(" (threshold {:.3g})", *ratio_threshold_) : ""));
  }

 private:
  double low_hz_;
  double high_hz_;
  std::optional<double> threshold_;
  std::optional<double> ratio_threshold_;
};

Status check(const FunctionSpec&, const Params& params) {
  const double low = params.at("band_low_hz");
  const double high = params.at("band_high_hz");
  if (low >= high) {
    return fail(
        Errc::kInvalidArgument,
        fmt::format("spec.params.band_low_hz must be < band_high_hz (got {} >= {})", low, high));
  }
  if (!params.contains("threshold") && !params.contains("ratio_threshold")) {
    return fail(Errc::kInvalidArgument, "spec.params needs threshold, ratio_threshold or both");
  }
  return ok();
}

}  // namespace

Status registerBandEnergy(HandlerTable& table) {
  HandlerDef def;
  def.params = {
      {.name = "band_low_hz",
       .need = ParamSpec::Need::kRequired,
       .min = 0.0,
       .description = "lower edge of the band, Hz"},
      {.name = "band_high_hz",
       .need = ParamSpec::Need::kRequired,
       .min = 0.0,
       .min_open = true,
       .description = "upper edge of the band, Hz (at most half the sample rate)"},
      {.name = "threshold",
       .need = ParamSpec::Need::kOptional,
       .min = 0.0,
       .min_open = true,
       .description = "band RMS limit, in the reading's units"},
      {.name = "ratio_threshold",
       .need = ParamSpec::Need::kOptional,
       .min = 0.0,
       .min_open = true,
       .max = 1.0,
       .description = "limit of band energy / total energy"},
  };
  def.check = check;
  def.make = [](const FunctionSpec&, const Params& p) { return std::make_unique<BandEnergy>(p); };
  return table.add("band_energy", std::move(def));
}

}  // namespace sie::builtin
