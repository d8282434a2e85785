// Plausibility of each domain's signals.
#include <algorithm>

#include <gtest/gtest.h>

#include "sim_test_util.h"

namespace sie::sim {
namespace {

using namespace testing;  // NOLINT: the helpers of this test suite

SimOptions only(std::string domain, double fault_rate = 0, std::int64_t hour = 0) {
  SimOptions options;
  options.domains = {std::move(domain)};
  options.faults_per_asset_hour = fault_rate;
  options.start_ns = kDefaultStartNs + hour * kHour;
  return options;
}

std::vector<double> values(const std::map<std::int64_t, double>& s) {
  std::vector<double> out;
  for (const auto& [ts, v] : s) out.push_back(v);
  return out;
}

TEST(SimDomains, GridStaysInBandWhenNoFaultIsActive) {
  Simulator sim(only("grid", 12));
  std::vector<Telemetry> out;
  sim.advance(sim.now() + kHour, out);
  std::size_t faulty = 0;
  for (const Telemetry& r : out) {
    if (sim.faultAt(r.sensor.str(), r.ts_ns) != nullptr) {
      ++faulty;
      continue;
    }
    const std::string_view id = r.sensor.str();
    if (id.ends_with("/voltage")) {
      EXPECT_GE(r.value(), 200.0) << id;
      EXPECT_LE(r.value(), 260.0) << id;
    } else if (id.ends_with("/frequency")) {
      EXPECT_GE(r.value(), 49.5) << id;
      EXPECT_LE(r.value(), 50.5) << id;
    } else {
      EXPECT_GT(r.value(), 0.0) << id;
    }
  }
  EXPECT_GT(faulty, 0u);
  EXPECT_EQ(out.size(), 3u * 3 * 10 * 3600);  // 10 Hz
}

TEST(SimDomains, GridLoadFollowsTheDayAndSagsVoltage) {
  const auto night = runFor(only("grid", 0, 3), 60);
  const auto evening = runFor(only("grid", 0, 19), 60);
  const double night_load = mean(values(series(night, "grid/feeder1/load")));
  const double evening_load = mean(values(series(evening, "grid/feeder1/load")));
  EXPECT_GT(evening_load, 1.5 * night_load);
  EXPECT_LT(mean(values(series(evening, "grid/feeder1/voltage"))),
            mean(values(series(night, "grid/feeder1/voltage"))) - 3.0);
}

TEST(SimDomains, HvacTemperatureTracksTheSetpoint) {
  const auto out = runFor(only("hvac"), 3600);
  for (const char* zone : {"hvac/zone1", "hvac/zone4"}) {
    const auto temp = series(out, std::string(zone) + "/temperature");
    const auto setpoint = series(out, std::string(zone) + "/setpoint");
    ASSERT_EQ(temp.size(), 3600u);
    double worst = 0;
    std::vector<double> errors;
    for (const auto& [ts, t] : temp) {
      errors.push_back(std::fabs(t - setpoint.at(ts)));
      worst = std::max(worst, errors.back());
    }
    EXPECT_LT(mean(errors), 0.4) << zone;
    EXPECT_LT(worst, 1.5) << zone;
    for (double v : values(series(out, std::string(zone) + "/airflow"))) {
      EXPECT_GT(v, 100.0);
      EXPECT_LT(v, 1100.0);
    }
  }
}

TEST(SimDomains, HvacWarmsUpWhenTheBuildingOpens) {
  // Start 06:30: the setpoint rises from the night setback at 07:00.
  SimOptions options = only("hvac");
  options.start_ns += 6 * kHour + kHour / 2;
  const auto out = runFor(options, 2 * 3600);
  const auto temp = series(out, "hvac/zone1/temperature");
  const auto setpoint = series(out, "hvac/zone1/setpoint");
  const std::int64_t opening = kDefaultStartNs + 7 * kHour;
  EXPECT_LT(setpoint.at(opening - kSecond), setpoint.at(opening) - 3.0);
  EXPECT_LT(temp.at(opening), setpoint.at(opening) - 2.5);
  const std::int64_t later = opening + kHour + kHour / 2;  // 08:30
  EXPECT_NEAR(temp.at(later), setpoint.at(later), 0.7);
}

TEST(SimDomains, VibrationBlockPeaksAtTheShaftFrequency) {
  const auto out = runFor(only("rotating"), 2);
  int blocks = 0;
  for (const Telemetry& r : out) {
    if (r.sensor.str() != "rotating/pump1/vibration") continue;
    ++blocks;
    ASSERT_EQ(r.values.size(), 256u);
    ASSERT_EQ(r.sample_period_ns, 500'000);
    const double shaft = amplitudeAt(r.values, 2000, 25.0);
    EXPECT_NEAR(shaft, 0.25, 0.08);
    EXPECT_GT(amplitudeAt(r.values, 2000, 50.0), 0.05);   // 2x
    EXPECT_GT(amplitudeAt(r.values, 2000, 125.0), 0.07);  // blade pass, 5 blades
    for (double quiet : {90.0, 200.0, 400.0, 700.0}) {
      EXPECT_LT(amplitudeAt(r.values, 2000, quiet), shaft / 4) << quiet << " Hz";
    }
  }
  EXPECT_EQ(blocks, 16);  // blocks starting within the 2 s (every 128 ms)
  for (double t : values(series(out, "rotating/pump2/bearing_temp"))) {
    EXPECT_GT(t, 30.0);
    EXPECT_LT(t, 50.0);
  }
}

TEST(SimDomains, DatacenterPowerAndInletFollowUtilization) {
  const auto night = runFor(only("datacenter", 0, 3), 600);
  const auto afternoon = runFor(only("datacenter", 0, 14), 600);
  const std::int64_t settled = 300 * kSecond;
  auto late = [&](const std::vector<Telemetry>& out, const std::string& id, std::int64_t hour) {
    const std::int64_t from = kDefaultStartNs + hour * kHour + settled;
    return mean(between(series(out, id), from, from + kHour));
  };
  for (int s = 1; s <= 4; ++s) {
    const std::string id = "datacenter/rack1/power_s" + std::to_string(s);
    EXPECT_GT(late(afternoon, id, 14), late(night, id, 3) + 40.0) << id;
    for (double w : values(series(night, id))) {
      EXPECT_GE(w, 100.0);
      EXPECT_LE(w, 370.0);
    }
  }
  EXPECT_GT(late(afternoon, "datacenter/rack1/inlet_temp", 14),
            late(night, "datacenter/rack1/inlet_temp", 3) + 0.3);
}

TEST(SimDomains, WaterFlowFollowsDemandAndPressureStaysPositive) {
  const auto night = runFor(only("water", 0, 3), 300);
  const auto morning = runFor(only("water", 0, 7), 300);
  for (const auto* out : {&night, &morning}) {
    for (const Telemetry& r : *out) EXPECT_GT(r.value(), 0.0) << r.sensor.str();
  }
  const double night_flow = mean(values(series(night, "water/district2/flow")));
  const double morning_flow = mean(values(series(morning, "water/district2/flow")));
  EXPECT_GT(morning_flow, 2.5 * night_flow);
  EXPECT_GT(mean(values(series(night, "water/district2/pressure"))),
            mean(values(series(morning, "water/district2/pressure"))) + 0.5);
}

}  // namespace
}  // namespace sie::sim
