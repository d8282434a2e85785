// Water distribution districts: inflow follows a daily demand pattern (night minimum, morning and
// evening peaks); pressure is the source head minus friction losses that grow with the square of
// the flow. A leak adds flow that does not follow demand, most visible at the night minimum, and
// lowers pressure.
#include <algorithm>

#include <fmt/format.h>

#include "adapters/sim/domain.h"
#include "adapters/sim/signals.h"

namespace sie::sim {
namespace {

constexpr std::string_view kDomain = "water";
constexpr double kRateHz = 1.0;
constexpr double kDesignPeak = 1.6;    // peak flow as a multiple of the base flow
constexpr double kHeadLossBar = 1.6;   // friction loss at the design peak
constexpr double kLeakLocalBar = 0.8;  // extra drop per base flow leaked, near the sensor
constexpr double kLeakRampS = 60.0;

enum Signal : std::size_t { kPressure, kFlow };

// Fraction of the base flow over the day.
double demand(double hour) {
  return 0.35 + 1.05 * dailyBump(hour, 7.5, 1.5) + 0.8 * dailyBump(hour, 19.5, 2.0) +
         0.35 * dailyBump(hour, 13.0, 2.5);
}

struct District {
  Rng rng;
  double base_m3h;
  double source_bar;
  Wander demand{600.0, 0.05};  // relative deviation from the pattern
  Wander head{1800.0, 0.03};   // bar
};

class Water final : public Domain {
 public:
  explicit Water(const DomainSetup& setup) : ticker_(setup.start_ns, kNsPerSecond) {
    for (int i = 0; i < setup.assets; ++i) {
      const std::string name = fmt::format("district{}", i + 1);
      const double base = 80.0 + 40.0 * (i % 3);
      Asset asset{name,
                  {makeSensor(kDomain, name, "pressure", "bar", 3.2, 5.2, kRateHz),
                   makeSensor(kDomain, name, "flow", "m3/h", 0.25 * base, 1.7 * base, kRateHz)},
                  {}};
      addSensorFaults(asset, {kPressure, kFlow});
      asset.faults.push_back({FaultKind::kLeak, {kPressure, kFlow}, 0.1 * base, 0.3 * base});
      assets_.push_back(std::move(asset));
      districts_.push_back(District{assetRng(setup, kDomain, name), base, 5.0 - 0.2 * (i % 2)});
    }
  }

  [[nodiscard]] const std::vector<Asset>& assets() const override { return assets_; }
  [[nodiscard]] std::int64_t nextTick() const override { return ticker_.next(); }

  void tick(TickSink& sink) override {
    const std::int64_t ts = ticker_.next();
    const double dt = ticker_.periodS();
    const double pattern = demand(hourOfDay(ts));
    for (std::size_t i = 0; i < districts_.size(); ++i) {
      District& d = districts_[i];
      double leak = 0.0;
      if (const FaultInterval* fault = sink.processFault(i, ts)) {
        leak = fault->magnitude * std::min(1.0, static_cast<double>(ts - fault->start_ns) /
                                                    (kLeakRampS * kNsPerSecond));
      }
      const double flow = std::max(0.0, d.base_m3h * pattern * (1.0 + d.demand.step(dt, d.rng)) +
                                            0.01 * d.base_m3h * d.rng.normal()) +
                          leak;
      const double relative = flow / (kDesignPeak * d.base_m3h);
      const double pressure = d.source_bar + d.head.step(dt, d.rng) -
                              kHeadLossBar * relative * relative -
                              kLeakLocalBar * leak / d.base_m3h + 0.015 * d.rng.normal();
      sink.emit(i, kPressure, ts, pressure);
      sink.emit(i, kFlow, ts, flow);
    }
    ticker_.advance();
  }

 private:
  Ticker ticker_;
  std::vector<Asset> assets_;
  std::vector<District> districts_;
};

}  // namespace

std::unique_ptr<Domain> makeWater(const DomainSetup& setup) {
  return std::make_unique<Water>(setup);
}

}  // namespace sie::sim
