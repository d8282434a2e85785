// Rotating assets (pumps): casing acceleration sampled at a high rate and delivered in blocks
// (shaft 1x and 2x, blade pass, broadband noise), plus the bearing temperature. A bearing fault
// (outer race defect) adds impacts at the defect frequency that ring a structural resonance, so
// high-band energy rises, and it heats the bearing.
#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "adapters/sim/domain.h"
#include "adapters/sim/signals.h"

namespace sie::sim {
namespace {

constexpr std::string_view kDomain = "rotating";
constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr int kBlades = 5;
constexpr double kBpfoRatio = 3.58;     // outer-race defect frequency / shaft frequency
constexpr double kResonanceHz = 650.0;  // rung by defect impacts (capped below Nyquist)
constexpr double kImpactDecayS = 0.004;
constexpr double kNoiseG = 0.05;
constexpr double kBearingHeatC = 8.0;  // extra °C per g of fault severity
constexpr double kBearingTauS = 180.0;

enum Signal : std::size_t { kVibration, kBearingTemp };

struct Pump {
  Rng rng;
  double shaft_hz;
  double amp_1x, amp_2x, amp_blade;  // g
  double phase_1x, phase_2x, phase_blade;
  double base_temp_c;
  double turn = 0.0;         // shaft angle, in turns [0, 1)
  double defect_turn = 0.0;  // progress to the next defect impact, [0, 1)
  double since_impact_s = 1.0;
  double temp_c = 0.0;
  Wander speed{30.0, 0.002};  // relative speed deviation
  Wander heat{600.0, 0.5};    // °C
};

class Rotating final : public Domain {
 public:
  explicit Rotating(const DomainSetup& setup)
      : sample_period_ns_(std::max<std::int64_t>(1, kNsPerSecond / setup.vibration_rate_hz)),
        block_(static_cast<std::size_t>(setup.vibration_block)),
        // Block k >= 1 starts at sample (k - 1) * block + 1: samples continue without a gap.
        blocks_(setup.start_ns + sample_period_ns_ - sample_period_ns_ * setup.vibration_block,
                sample_period_ns_ * setup.vibration_block),
        temps_(setup.start_ns, kNsPerSecond),
        resonance_hz_(std::min(kResonanceHz, 0.3 * setup.vibration_rate_hz)) {
    const double rate = static_cast<double>(kNsPerSecond) / static_cast<double>(sample_period_ns_);
    for (int i = 0; i < setup.assets; ++i) {
      const std::string name = fmt::format("pump{}", i + 1);
      Asset asset{name,
                  {makeSensor(kDomain, name, "vibration", "g", -1.0, 1.0, rate, true),
                   makeSensor(kDomain, name, "bearing_temp", "degC", 30, 50, 1.0)},
                  {}};
      addSensorFaults(asset, {kBearingTemp});
      asset.faults.push_back({FaultKind::kBearing, {kVibration, kBearingTemp}, 0.4, 1.5});
      assets_.push_back(std::move(asset));
      Rng rng = assetRng(setup, kDomain, name);
      const double phase_1x = kTwoPi * rng.uniform();
      const double phase_2x = kTwoPi * rng.uniform();
      const double phase_blade = kTwoPi * rng.uniform();
      const double base_temp = 38.0 + 2.0 * (i % 3);
      pumps_.push_back(Pump{std::move(rng), 25.0 - 0.25 * (i % 3), 0.25 + 0.05 * (i % 3), 0.12,
                            0.15, phase_1x, phase_2x, phase_blade, base_temp});
      pumps_.back().temp_c = base_temp;
    }
  }

  [[nodiscard]] const std::vector<Asset>& assets() const override { return assets_; }
  [[nodiscard]] std::int64_t nextTick() const override {
    return std::min(blocks_.next(), temps_.next());
  }

  void tick(TickSink& sink) override {
    const std::int64_t ts = nextTick();
    if (blocks_.next() == ts) {
      for (std::size_t i = 0; i < pumps_.size(); ++i) {
        sink.emitBlock(i, kVibration, ts, sample_period_ns_, block(i, ts, sink));
      }
      blocks_.advance();
    }
    if (temps_.next() == ts) {
      for (std::size_t i = 0; i < pumps_.size(); ++i) {
        Pump& p = pumps_[i];
        const FaultInterval* fault = sink.processFault(i, ts);
        const double target = p.base_temp_c + p.heat.step(temps_.periodS(), p.rng) +
                              (fault ? kBearingHeatC * fault->magnitude : 0.0);
        p.temp_c = lag(p.temp_c, target, temps_.periodS(), kBearingTauS);
        sink.emit(i, kBearingTemp, ts, p.temp_c + 0.1 * p.rng.normal());
      }
      temps_.advance();
    }
  }

 private:
  std::vector<double> block(std::size_t i, std::int64_t ts, TickSink& sink) {
    Pump& p = pumps_[i];
    const double dt = static_cast<double>(sample_period_ns_) / static_cast<double>(kNsPerSecond);
    const double shaft_hz = p.shaft_hz * (1.0 + p.speed.step(dt * block_, p.rng));
    std::vector<double> values(block_);
    for (std::size_t n = 0; n < block_; ++n) {
      const FaultInterval* fault =
          sink.processFault(i, ts + static_cast<std::int64_t>(n) * sample_period_ns_);
      const double severity = fault ? fault->magnitude : 0.0;
      const double angle = kTwoPi * p.turn;
      double x = p.amp_1x * std::sin(angle + p.phase_1x) +
                 p.amp_2x * std::sin(2.0 * angle + p.phase_2x) +
                 p.amp_blade * std::sin(kBlades * angle + p.phase_blade) +
                 kNoiseG * (1.0 + 0.5 * severity) * p.rng.normal();
      if (severity > 0.0) {
        x += severity * std::exp(-p.since_impact_s / kImpactDecayS) *
             std::sin(kTwoPi * resonance_hz_ * p.since_impact_s);
      }
      values[n] = x;
      p.turn += shaft_hz * dt;
      p.turn -= std::floor(p.turn);
      p.defect_turn += kBpfoRatio * shaft_hz * dt;
      if (p.defect_turn >= 1.0) {
        p.defect_turn -= 1.0;
        p.since_impact_s = p.defect_turn / (kBpfoRatio * shaft_hz);
      } else {
        p.since_impact_s += dt;
      }
    }
    return values;
  }

  std::int64_t sample_period_ns_;
  std::size_t block_;
  Ticker blocks_;
  Ticker temps_;
  double resonance_hz_;
  std::vector<Asset> assets_;
  std::vector<Pump> pumps_;
};

}  // namespace

std::unique_ptr<Domain> makeRotating(const DomainSetup& setup) {
  return std::make_unique<Rotating>(setup);
}

}  // namespace sie::sim
