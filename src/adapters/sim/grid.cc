// Power grid feeders: voltage sags with load, one system frequency wanders around 50 Hz, load
// follows a residential daily curve. An overload surges the load and deepens the sag.
#include <algorithm>

#include <fmt/format.h>

#include "adapters/sim/domain.h"
#include "adapters/sim/signals.h"

namespace sie::sim {
namespace {

constexpr std::string_view kDomain = "grid";
constexpr double kRateHz = 10.0;
constexpr double kNominalHz = 50.0;
constexpr double kSourceVolts = 241.0;
constexpr double kSagVolts = 15.0;  // drop at the feeder's base load
constexpr double kOverloadRampS = 3.0;

enum Signal : std::size_t { kVoltage, kFrequency, kLoad };

// Fraction of the base load: night trough, morning and evening peaks.
double demand(double hour) {
  return 0.45 + 0.4 * dailyBump(hour, 8.0, 1.8) + 0.55 * dailyBump(hour, 19.0, 2.2);
}

struct Feeder {
  double base_kw;
  Rng rng;
  Wander load{300.0, 0.04};   // relative deviation from the daily curve
  Wander source{600.0, 0.8};  // upstream voltage, V
};

class Grid final : public Domain {
 public:
  explicit Grid(const DomainSetup& setup)
      : ticker_(setup.start_ns, kNsPerSecond / 10),
        system_rng_(assetRng(setup, kDomain, "system")) {
    for (int i = 0; i < setup.assets; ++i) {
      const std::string name = fmt::format("feeder{}", i + 1);
      const double base_kw = 300.0 + 150.0 * (i % 4);
      Asset asset{
          name,
          {makeSensor(kDomain, name, "voltage", "V", 222, 240, kRateHz),
           makeSensor(kDomain, name, "frequency", "Hz", 49.93, 50.07, kRateHz),
           makeSensor(kDomain, name, "load", "kW", 0.35 * base_kw, 1.15 * base_kw, kRateHz)},
          {}};
      addSensorFaults(asset, {kVoltage, kFrequency, kLoad});
      asset.faults.push_back({FaultKind::kOverload, {kVoltage, kLoad}, 0.5, 1.0});
      assets_.push_back(std::move(asset));
      feeders_.push_back(Feeder{base_kw, assetRng(setup, kDomain, name)});
    }
  }

  [[nodiscard]] const std::vector<Asset>& assets() const override { return assets_; }
  [[nodiscard]] std::int64_t nextTick() const override { return ticker_.next(); }

  void tick(TickSink& sink) override {
    const std::int64_t ts = ticker_.next();
    const double dt = ticker_.periodS();
    const double hour = hourOfDay(ts);
    // One interconnected grid: every feeder sees the same frequency.
    const double hz = kNominalHz + slow_hz_.step(dt, system_rng_) + fast_hz_.step(dt, system_rng_);
    for (std::size_t i = 0; i < feeders_.size(); ++i) {
      Feeder& f = feeders_[i];
      double load = f.base_kw * demand(hour) * (1.0 + f.load.step(dt, f.rng)) +
                    0.01 * f.base_kw * f.rng.normal();
      if (const FaultInterval* fault = sink.processFault(i, ts)) {
        const double ramp = std::min(
            1.0, static_cast<double>(ts - fault->start_ns) / (kOverloadRampS * kNsPerSecond));
        load *= 1.0 + fault->magnitude * ramp;
      }
      const double volts = kSourceVolts + f.source.step(dt, f.rng) - kSagVolts * load / f.base_kw +
                           0.25 * f.rng.normal();
      const double measured_hz = hz + 0.001 * f.rng.normal();
      sink.emit(i, kVoltage, ts, volts);
      sink.emit(i, kFrequency, ts, measured_hz);
      sink.emit(i, kLoad, ts, load);
    }
    ticker_.advance();
  }

 private:
  Ticker ticker_;
  Rng system_rng_;
  Wander slow_hz_{60.0, 0.02};  // Hz: governor and load balance
  Wander fast_hz_{5.0, 0.005};
  std::vector<Asset> assets_;
  std::vector<Feeder> feeders_;
};

}  // namespace

std::unique_ptr<Domain> makeGrid(const DomainSetup& setup) { return std::make_unique<Grid>(setup); }

}  // namespace sie::sim
