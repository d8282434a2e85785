// Every fault kind is scheduled and changes what it claims to change. Each test compares a run
// with faults to the same seed without faults: faults draw from their own random streams, so the
// two runs are the same plant.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "sim_test_util.h"

namespace sie::sim {
namespace {

using namespace testing;  // NOLINT: the helpers of this test suite

constexpr double kRate = 30;

struct Case {
  SimOptions faulty;
  SimOptions clean;
  FaultInterval fault;
};

// The first seed whose first fault in `domain` is of `kind`; both runs of that seed.
Case firstFault(const std::string& domain, const std::string& kind) {
  for (std::uint64_t seed = 1; seed < 1000; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.domains = {domain};
    options.assets_per_domain = 1;
    options.faults_per_asset_hour = kRate;
    const Simulator sim(options);
    if (!sim.faults().empty() && sim.faults().front().kind == kind) {
      SimOptions clean = options;
      clean.faults_per_asset_hour = 0;
      return {options, clean, sim.faults().front()};
    }
  }
  ADD_FAILURE() << "no seed starts with a " << kind << " fault in " << domain;
  return {};
}

struct Runs {
  std::vector<Telemetry> faulty;
  std::vector<Telemetry> clean;
};

Runs runThrough(const Case& c, std::int64_t extra_ns = kSecond) {
  Runs runs;
  Simulator faulty(c.faulty);
  Simulator clean(c.clean);
  faulty.advance(c.fault.end_ns + extra_ns, runs.faulty);
  clean.advance(c.fault.end_ns + extra_ns, runs.clean);
  return runs;
}

// faulty - clean for the fault's first sensor, during the fault.
std::vector<double> difference(const Case& c, const Runs& runs, std::size_t sensor = 0) {
  const auto f = series(runs.faulty, c.fault.sensors.at(sensor));
  const auto g = series(runs.clean, c.fault.sensors.at(sensor));
  std::vector<double> out;
  for (auto it = f.lower_bound(c.fault.start_ns); it != f.end() && it->first < c.fault.end_ns;
       ++it) {
    out.push_back(it->second - g.at(it->first));
  }
  return out;
}

TEST(SimFaults, EveryKindIsScheduledWithAHighRate) {
  SimOptions options;
  options.faults_per_asset_hour = kRate;
  const Simulator sim(options);
  std::set<std::string> kinds;
  for (const FaultInterval& f : sim.faults()) kinds.insert(f.kind);
  EXPECT_EQ(kinds, (std::set<std::string>{"spike", "drift", "step", "oscillation", "stuck", "leak",
                                          "overload", "bearing"}));
}

TEST(SimFaults, SpikeOffsetsOneToThreeSamples) {
  const Case c = firstFault("grid", "spike");
  const auto diff = difference(c, runThrough(c));
  ASSERT_GE(diff.size(), 1u);
  EXPECT_LE(diff.size(), 3u);
  for (double d : diff) EXPECT_NEAR(d, c.fault.magnitude, 1e-6);
}

TEST(SimFaults, StepShiftsTheMean) {
  const Case c = firstFault("water", "step");
  const Runs runs = runThrough(c);
  const auto diff = difference(c, runs);
  ASSERT_GE(diff.size(), 29u);
  EXPECT_NEAR(mean(diff), c.fault.magnitude, 1e-6);
  EXPECT_NEAR(variance(diff), 0.0, 1e-9);
  // Outside the fault the sensor reads the same as without faults.
  const auto f = series(runs.faulty, c.fault.sensors[0]);
  const auto g = series(runs.clean, c.fault.sensors[0]);
  EXPECT_EQ(std::prev(f.lower_bound(c.fault.start_ns))->second,
            std::prev(g.lower_bound(c.fault.start_ns))->second);
  EXPECT_EQ(f.lower_bound(c.fault.end_ns)->second, g.lower_bound(c.fault.end_ns)->second);
}

TEST(SimFaults, DriftGrowsToItsMagnitude) {
  const Case c = firstFault("hvac", "drift");
  const auto diff = difference(c, runThrough(c));
  ASSERT_GE(diff.size(), 100u);
  EXPECT_LT(std::fabs(diff.front()), 0.02 * std::fabs(c.fault.magnitude));
  EXPECT_NEAR(diff.back(), c.fault.magnitude, 0.02 * std::fabs(c.fault.magnitude));
  for (std::size_t i = 1; i < diff.size(); ++i) {
    EXPECT_GT(std::fabs(diff[i]), std::fabs(diff[i - 1]));
  }
}

TEST(SimFaults, OscillationAddsASwingAroundTheTrueValue) {
  const Case c = firstFault("datacenter", "oscillation");
  const auto diff = difference(c, runThrough(c));
  ASSERT_GE(diff.size(), 30u);
  EXPECT_NEAR(std::sqrt(variance(diff)), c.fault.magnitude / std::sqrt(2.0),
              0.15 * c.fault.magnitude);
  EXPECT_LT(std::fabs(mean(diff)), 0.2 * c.fault.magnitude);
}

TEST(SimFaults, StuckSensorHasZeroVariance) {
  const Case c = firstFault("grid", "stuck");
  const Runs runs = runThrough(c);
  const auto stuck =
      between(series(runs.faulty, c.fault.sensors[0]), c.fault.start_ns, c.fault.end_ns);
  const auto truth =
      between(series(runs.clean, c.fault.sensors[0]), c.fault.start_ns, c.fault.end_ns);
  ASSERT_GE(stuck.size(), 100u);
  EXPECT_EQ(*std::min_element(stuck.begin(), stuck.end()),
            *std::max_element(stuck.begin(), stuck.end()));
  EXPECT_GT(variance(truth), 0.0);
}

TEST(SimFaults, LeakRaisesFlowAndLowersPressure) {
  const Case c = firstFault("water", "leak");
  ASSERT_EQ(c.fault.sensors,
            (std::vector<std::string>{"water/district1/pressure", "water/district1/flow"}));
  const Runs runs = runThrough(c);
  const std::int64_t ramped = c.fault.start_ns + 60 * kSecond;
  const auto flow = between(series(runs.faulty, "water/district1/flow"), ramped, c.fault.end_ns);
  const auto base = between(series(runs.clean, "water/district1/flow"), ramped, c.fault.end_ns);
  EXPECT_NEAR(mean(flow) - mean(base), c.fault.magnitude, 0.05 * c.fault.magnitude);
  EXPECT_LT(
      mean(between(series(runs.faulty, "water/district1/pressure"), ramped, c.fault.end_ns)),
      mean(between(series(runs.clean, "water/district1/pressure"), ramped, c.fault.end_ns)) - 0.1);
}

TEST(SimFaults, GridOverloadSurgesLoadAndSagsVoltage) {
  const Case c = firstFault("grid", "overload");
  const Runs runs = runThrough(c);
  const std::int64_t ramped = c.fault.start_ns + 5 * kSecond;
  auto during = [&](const std::vector<Telemetry>& out, const char* id) {
    return mean(between(series(out, id), ramped, c.fault.end_ns));
  };
  EXPECT_NEAR(during(runs.faulty, "grid/feeder1/load") / during(runs.clean, "grid/feeder1/load"),
              1.0 + c.fault.magnitude, 0.02);
  EXPECT_LT(during(runs.faulty, "grid/feeder1/voltage"),
            during(runs.clean, "grid/feeder1/voltage") - 2.0);
}

TEST(SimFaults, DatacenterOverloadSurgesPowerAndHeatsTheInlet) {
  const Case c = firstFault("datacenter", "overload");
  EXPECT_EQ(c.fault.sensors.size(), 5u);
  const Runs runs = runThrough(c);
  const std::int64_t ramped = c.fault.start_ns + 10 * kSecond;
  auto during = [&](const std::vector<Telemetry>& out, const char* id) {
    return mean(between(series(out, id), ramped, c.fault.end_ns));
  };
  EXPECT_GT(during(runs.faulty, "datacenter/rack1/power_s2"),
            during(runs.clean, "datacenter/rack1/power_s2") * (1 + 0.9 * c.fault.magnitude));
  const std::int64_t last = c.fault.end_ns - c.fault.end_ns % kSecond;
  EXPECT_GT(series(runs.faulty, "datacenter/rack1/inlet_temp").at(last),
            series(runs.clean, "datacenter/rack1/inlet_temp").at(last) + 0.3);
}

TEST(SimFaults, BearingFaultRaisesHighBandVibrationAndHeat) {
  const Case c = firstFault("rotating", "bearing");
  const Runs runs = runThrough(c);
  auto energy = [&](const std::vector<Telemetry>& out) {
    double sum = 0;
    int blocks = 0;
    for (const Telemetry& r : out) {
      if (r.sample_period_ns == 0 || r.ts_ns < c.fault.start_ns + 10 * kSecond) continue;
      if (blocks++ == 20) break;
      sum += bandEnergy(r.values, 2000, 400);
    }
    return sum;
  };
  EXPECT_GT(energy(runs.faulty), 3 * energy(runs.clean));
  const std::int64_t last = c.fault.end_ns - c.fault.end_ns % kSecond;
  EXPECT_GT(series(runs.faulty, "rotating/pump1/bearing_temp").at(last),
            series(runs.clean, "rotating/pump1/bearing_temp").at(last) + 0.8);
}

}  // namespace
}  // namespace sie::sim
