// Data-center racks: per-server power follows utilization (a business-hours curve shared by the
// rack plus per-server wander); inlet temperature rises with rack power through hot-air
// recirculation. An overload surges every server's power and outruns the cooling.
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "adapters/sim/domain.h"
#include "adapters/sim/signals.h"

namespace sie::sim {
namespace {

constexpr std::string_view kDomain = "datacenter";
constexpr double kRateHz = 1.0;
constexpr std::size_t kServers = 4;
constexpr double kIdleW = 110.0;
constexpr double kDynamicW = 240.0;  // extra power at full utilization
constexpr double kRecirculationCPerW = 0.002;
constexpr double kReferenceRackW = 900.0;
constexpr double kOverloadHeatC = 8.0;  // inlet rise per unit of surge (cooling falls behind)
constexpr double kInletTauS = 90.0;
constexpr double kSurgeRampS = 5.0;

enum Signal : std::size_t { kInletTemp };  // then power_s1 .. power_sN at 1 .. N

struct Rack {
  Rng rng;
  double supply_c;
  double inlet_c = 0.0;
  Wander utilization{300.0, 0.08};
  std::vector<Wander> servers;
};

class Datacenter final : public Domain {
 public:
  explicit Datacenter(const DomainSetup& setup) : ticker_(setup.start_ns, kNsPerSecond) {
    for (int i = 0; i < setup.assets; ++i) {
      const std::string name = fmt::format("rack{}", i + 1);
      Asset asset{name, {makeSensor(kDomain, name, "inlet_temp", "degC", 19, 25, kRateHz)}, {}};
      FaultOption overload{FaultKind::kOverload, {kInletTemp}, 0.2, 0.5};
      for (std::size_t s = 1; s <= kServers; ++s) {
        asset.sensors.push_back(
            makeSensor(kDomain, name, fmt::format("power_s{}", s), "W", 100, 370, kRateHz));
        overload.sensors.push_back(s);
      }
      addSensorFaults(asset, {kInletTemp, 1, 2, 3, 4});
      asset.faults.push_back(std::move(overload));
      assets_.push_back(std::move(asset));
      Rack rack{assetRng(setup, kDomain, name), 20.5 + 0.5 * (i % 2)};
      rack.inlet_c = rack.supply_c;
      rack.servers.assign(kServers, Wander{60.0, 0.05});
      racks_.push_back(std::move(rack));
    }
  }

  [[nodiscard]] const std::vector<Asset>& assets() const override { return assets_; }
  [[nodiscard]] std::int64_t nextTick() const override { return ticker_.next(); }

  void tick(TickSink& sink) override {
    const std::int64_t ts = ticker_.next();
    const double dt = ticker_.periodS();
    const double business = 0.25 + 0.4 * dailyBump(hourOfDay(ts), 14.0, 3.5);
    for (std::size_t i = 0; i < racks_.size(); ++i) {
      Rack& r = racks_[i];
      double surge = 0.0;
      if (const FaultInterval* fault = sink.processFault(i, ts)) {
        surge = fault->magnitude * std::min(1.0, static_cast<double>(ts - fault->start_ns) /
                                                     (kSurgeRampS * kNsPerSecond));
      }
      const double shared = business + r.utilization.step(dt, r.rng);
      double rack_w = 0.0;
      std::array<double, kServers> power{};
      for (std::size_t s = 0; s < kServers; ++s) {
        const double load = std::clamp(shared + r.servers[s].step(dt, r.rng), 0.02, 1.0);
        power[s] = (kIdleW + kDynamicW * load) * (1.0 + surge) + 2.0 * r.rng.normal();
        rack_w += power[s];
      }
      const double target =
          r.supply_c + kRecirculationCPerW * (rack_w - kReferenceRackW) + kOverloadHeatC * surge;
      r.inlet_c = lag(r.inlet_c, target, dt, kInletTauS);
      sink.emit(i, kInletTemp, ts, r.inlet_c + 0.05 * r.rng.normal());
      for (std::size_t s = 0; s < kServers; ++s) sink.emit(i, s + 1, ts, power[s]);
    }
    ticker_.advance();
  }

 private:
  Ticker ticker_;
  std::vector<Asset> assets_;
  std::vector<Rack> racks_;
};

}  // namespace

std::unique_ptr<Domain> makeDatacenter(const DomainSetup& setup) {
  return std::make_unique<Datacenter>(setup);
}

}  // namespace sie::sim
