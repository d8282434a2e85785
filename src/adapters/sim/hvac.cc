// HVAC zones: a first-order thermal model (losses to the outside, heating or cooling from the air
// handler, internal gains while occupied) under a PI controller that follows a setpoint schedule.
#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "adapters/sim/domain.h"
#include "adapters/sim/signals.h"

namespace sie::sim {
namespace {

constexpr std::string_view kDomain = "hvac";
constexpr double kRateHz = 1.0;
constexpr double kSetbackC = 17.0;
constexpr double kHeatRate = 0.0035;      // °C/s at full heating (or cooling, negative output)
constexpr double kInternalGain = 0.0005;  // °C/s from people and equipment while occupied
constexpr double kKp = 0.6;               // output per °C of error
constexpr double kKi = kKp / 900.0;       // integral time 15 min
constexpr double kMinAirflow = 150.0;     // m³/h ventilation floor
constexpr double kMaxAirflow = 1000.0;

enum Signal : std::size_t { kTemperature, kAirflow, kSetpoint };

bool occupied(double hour) { return hour >= 7.0 && hour < 19.0; }

// January outside temperature: coldest before dawn, warmest mid-afternoon.
double outsideBase(double hour) {
  return 3.0 + 4.0 * std::sin(2.0 * std::numbers::pi * (hour - 9.0) / 24.0);
}

struct Zone {
  Rng rng;
  double occupied_c;  // setpoint while occupied
  double tau_loss_s;  // envelope time constant
  double temp = 0.0;
  double integral = 0.0;              // °C·s
  Wander disturbance{900.0, 0.0003};  // °C/s: sun, doors, equipment
};

class Hvac final : public Domain {
 public:
  explicit Hvac(const DomainSetup& setup)
      : ticker_(setup.start_ns, kNsPerSecond), system_rng_(assetRng(setup, kDomain, "outside")) {
    const double hour = hourOfDay(setup.start_ns);
    for (int i = 0; i < setup.assets; ++i) {
      const std::string name = fmt::format("zone{}", i + 1);
      Asset asset{name,
                  {makeSensor(kDomain, name, "temperature", "degC", 16, 23, kRateHz),
                   makeSensor(kDomain, name, "airflow", "m3/h", kMinAirflow, kMaxAirflow, kRateHz),
                   makeSensor(kDomain, name, "setpoint", "degC", 16, 23, kRateHz)},
                  {}};
      addSensorFaults(asset, {kTemperature, kAirflow});
      assets_.push_back(std::move(asset));
      Zone zone{assetRng(setup, kDomain, name), 20.5 + 0.5 * (i % 3), 9000.0 + 1500.0 * (i % 4)};
      // Start settled: at the setpoint, with the integral holding the steady-state output.
      zone.temp = setpoint(zone, hour);
      const double gains = occupied(hour) ? kInternalGain : 0.0;
      const double output = ((zone.temp - outsideBase(hour)) / zone.tau_loss_s - gains) / kHeatRate;
      zone.integral = std::clamp(output, -1.0, 1.0) / kKi;
      zones_.push_back(std::move(zone));
    }
  }

  [[nodiscard]] const std::vector<Asset>& assets() const override { return assets_; }
  [[nodiscard]] std::int64_t nextTick() const override { return ticker_.next(); }

  void tick(TickSink& sink) override {
    const std::int64_t ts = ticker_.next();
    const double dt = ticker_.periodS();
    const double hour = hourOfDay(ts);
    const double outside = outsideBase(hour) + outside_.step(dt, system_rng_);
    const double gains = occupied(hour) ? kInternalGain : 0.0;
    for (std::size_t i = 0; i < zones_.size(); ++i) {
      Zone& z = zones_[i];
      const double target = setpoint(z, hour);
      const double error = target - z.temp;
      const double unclamped = kKp * error + kKi * z.integral;
      const double output = std::clamp(unclamped, -1.0, 1.0);
      // Integrate only while that does not push further into saturation (anti-windup).
      if (output == unclamped || error * unclamped < 0) z.integral += error * dt;
      const double rate = (outside - z.temp) / z.tau_loss_s + kHeatRate * output + gains +
                          z.disturbance.step(dt, z.rng);
      z.temp += rate * dt;
      const double airflow =
          kMinAirflow + (kMaxAirflow - kMinAirflow) * std::fabs(output) + 5.0 * z.rng.normal();
      sink.emit(i, kTemperature, ts, z.temp + 0.03 * z.rng.normal());
      sink.emit(i, kAirflow, ts, airflow);
      sink.emit(i, kSetpoint, ts, target);
    }
    ticker_.advance();
  }

 private:
  static double setpoint(const Zone& zone, double hour) {
    return occupied(hour) ? zone.occupied_c : kSetbackC;
  }

  Ticker ticker_;
  Rng system_rng_;
  Wander outside_{3600.0, 1.0};
  std::vector<Asset> assets_;
  std::vector<Zone> zones_;
};

}  // namespace

std::unique_ptr<Domain> makeHvac(const DomainSetup& setup) { return std::make_unique<Hvac>(setup); }

}  // namespace sie::sim
