#include "adapters/sim/simulator.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "sim_test_util.h"

namespace sie::sim {
namespace {

using testing::kHour;
using testing::kSecond;
using testing::runFor;

bool sameReading(const Telemetry& a, const Telemetry& b) {
  return a.sensor == b.sensor && a.ts_ns == b.ts_ns && a.values == b.values &&
         a.sample_period_ns == b.sample_period_ns;
}

bool sameReadings(const std::vector<Telemetry>& a, const std::vector<Telemetry>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), sameReading);
}

bool sameFaults(const std::vector<FaultInterval>& a, const std::vector<FaultInterval>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.kind == y.kind && x.asset == y.asset && x.sensors == y.sensors &&
           x.start_ns == y.start_ns && x.end_ns == y.end_ns && x.magnitude == y.magnitude;
  });
}

SimOptions busy(std::uint64_t seed) {
  SimOptions options;
  options.seed = seed;
  options.faults_per_asset_hour = 60;
  return options;
}

TEST(SimSimulator, SameSeedGivesSameReadingsAndFaults) {
  Simulator a(busy(7));
  Simulator b(busy(7));
  std::vector<Telemetry> ra;
  std::vector<Telemetry> rb;
  a.advance(a.now() + 20 * kSecond, ra);
  b.advance(b.now() + 20 * kSecond, rb);
  ASSERT_FALSE(ra.empty());
  EXPECT_TRUE(sameReadings(ra, rb));
  EXPECT_TRUE(sameFaults(a.faults(), b.faults()));
}

TEST(SimSimulator, DifferentSeedGivesDifferentReadingsAndFaults) {
  Simulator a(busy(7));
  Simulator b(busy(8));
  std::vector<Telemetry> ra;
  std::vector<Telemetry> rb;
  a.advance(a.now() + 5 * kSecond, ra);
  b.advance(b.now() + 5 * kSecond, rb);
  ASSERT_EQ(ra.size(), rb.size());  // same plant layout and rates
  EXPECT_FALSE(sameReadings(ra, rb));
  EXPECT_FALSE(sameFaults(a.faults(), b.faults()));
}

TEST(SimSimulator, OutputDoesNotDependOnHowTimeIsAdvanced) {
  Simulator once(busy(3));
  Simulator steps(busy(3));
  std::vector<Telemetry> r1;
  std::vector<Telemetry> r2;
  const std::int64_t end = once.now() + 10 * kSecond;
  once.advance(end, r1);
  while (steps.now() < end) steps.advance(std::min(end, steps.now() + 37'000'000), r2);
  EXPECT_TRUE(sameReadings(r1, r2));
  EXPECT_EQ(once.now(), end);
}

TEST(SimSimulator, ReadingsAreInTimeOrderWithoutDuplicates) {
  Simulator sim(busy(5));
  const std::int64_t start = sim.now();
  std::vector<Telemetry> out;
  sim.advance(start + 5 * kSecond, out);
  sim.advance(start + 5 * kSecond, out);  // no time passed: nothing new
  sim.advance(start + 12 * kSecond, out);
  std::map<Symbol, std::int64_t> last;
  std::int64_t previous = start;
  for (const Telemetry& r : out) {
    EXPECT_GE(r.ts_ns, previous);
    EXPECT_GT(r.ts_ns, start);
    EXPECT_LE(r.ts_ns, start + 12 * kSecond);
    previous = r.ts_ns;
    auto [it, first] = last.try_emplace(r.sensor, r.ts_ns);
    if (!first) {
      EXPECT_GT(r.ts_ns, it->second) << r.sensor.str();
      // Vibration blocks follow each other without a gap or an overlap.
      if (r.sample_period_ns > 0) {
        EXPECT_EQ(r.ts_ns - it->second, r.sample_period_ns * 256) << r.sensor.str();
      }
      it->second = r.ts_ns;
    }
  }
  EXPECT_EQ(last.size(), sim.sensors().size());
}

TEST(SimSimulator, DefaultPlantHasTheDocumentedSensors) {
  Simulator sim(SimOptions{});
  const auto& sensors = sim.sensors();
  // 3 feeders x 3 + 4 zones x 3 + 2 pumps x 2 + 2 racks x (1 + 4) + 3 districts x 2.
  EXPECT_EQ(sensors.size(), 41u);
  std::set<std::string> ids;
  for (const SensorInfo& s : sensors) {
    ids.insert(s.id);
    EXPECT_EQ(s.id, s.domain + "/" + s.asset + "/" + s.signal);
    EXPECT_LT(s.nominal_min, s.nominal_max) << s.id;
    EXPECT_FALSE(s.unit.empty()) << s.id;
  }
  EXPECT_EQ(ids.size(), sensors.size());
  for (const char* id :
       {"grid/feeder3/voltage", "grid/feeder1/frequency", "grid/feeder2/load",
        "hvac/zone4/temperature", "hvac/zone1/airflow", "hvac/zone2/setpoint",
        "rotating/pump2/vibration", "rotating/pump1/bearing_temp", "datacenter/rack2/inlet_temp",
        "datacenter/rack1/power_s4", "water/district3/pressure", "water/district1/flow"}) {
    EXPECT_TRUE(ids.contains(id)) << id;
  }
  const auto vibration = std::find_if(sensors.begin(), sensors.end(),
                                      [](const auto& s) { return s.signal == "vibration"; });
  EXPECT_TRUE(vibration->block);
  EXPECT_EQ(vibration->rate_hz, 2000);
  EXPECT_EQ(sim.now(), kDefaultStartNs);
}

TEST(SimSimulator, AssetsAndDomainsAreConfigurable) {
  SimOptions options;
  options.domains = {"water", "grid"};
  options.assets_per_domain = 5;
  Simulator sim(options);
  EXPECT_EQ(sim.sensors().size(), 5u * 2 + 5u * 3);
  EXPECT_EQ(sim.sensors().front().id, "water/district1/pressure");
}

TEST(SimSimulator, FaultsAreSortedAndNeverOverlapOnOneAsset) {
  Simulator sim(busy(11));
  const auto& faults = sim.faults();
  ASSERT_GT(faults.size(), 50u);
  std::map<std::string, std::int64_t> asset_free_from;
  for (std::size_t i = 0; i < faults.size(); ++i) {
    const FaultInterval& f = faults[i];
    if (i > 0) {
      EXPECT_LE(faults[i - 1].start_ns, f.start_ns);
    }
    EXPECT_LT(f.start_ns, f.end_ns);
    EXPECT_GT(f.start_ns, sim.now());
    ASSERT_FALSE(f.sensors.empty());
    for (const std::string& s : f.sensors)
      EXPECT_EQ(s.rfind(f.domain + "/" + f.asset + "/", 0), 0u);
    const std::string asset = f.domain + "/" + f.asset;
    EXPECT_GE(f.start_ns, asset_free_from[asset]) << asset << " " << f.kind;
    asset_free_from[asset] = f.end_ns;
  }
}

TEST(SimSimulator, FaultsAreKnownAnHourAhead) {
  Simulator sim(busy(2));
  std::vector<Telemetry> out;
  sim.advance(sim.now() + 10 * kSecond, out);
  ASSERT_FALSE(sim.faults().empty());
  EXPECT_LT(sim.faults().back().start_ns, sim.now() + kHour + 10 * kSecond);
  EXPECT_GT(sim.faults().back().start_ns, sim.now() + kHour / 2);
  const FaultInterval& f = sim.faults().front();
  EXPECT_EQ(sim.faultAt(f.sensors.front(), f.start_ns), &f);
  EXPECT_EQ(sim.faultAt(f.sensors.front(), f.end_ns - 1), &f);
  EXPECT_EQ(sim.faultAt(f.sensors.front(), f.end_ns), nullptr);
  EXPECT_EQ(sim.faultAt(f.sensors.front(), f.start_ns - 1), nullptr);
  EXPECT_EQ(sim.faultAt("no/such/sensor", f.start_ns), nullptr);
}

TEST(SimSimulator, ZeroRateMeansNoFaults) {
  SimOptions options;
  options.faults_per_asset_hour = 0;
  Simulator sim(options);
  std::vector<Telemetry> out;
  sim.advance(sim.now() + kSecond, out);
  EXPECT_TRUE(sim.faults().empty());
}

TEST(SimSimulator, ValidateOptionsNamesTheProblem) {
  EXPECT_TRUE(validateOptions(SimOptions{}));
  SimOptions options;
  options.domains = {"grid", "moon"};
  auto status = validateOptions(options);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("'moon'"), std::string::npos);
  options.domains = {"grid", "grid"};
  EXPECT_FALSE(validateOptions(options));
  options = {};
  options.faults_per_asset_hour = -1;
  EXPECT_FALSE(validateOptions(options));
  options = {};
  options.vibration_block = 0;
  EXPECT_FALSE(validateOptions(options));
  options = {};
  options.domains.clear();
  EXPECT_FALSE(validateOptions(options));
}

}  // namespace
}  // namespace sie::sim
