// Fault kinds, the fault schedule, and how a faulty sensor distorts what it reports.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/sim/random.h"
#include "adapters/sim/simulator.h"

namespace sie::sim {

enum class FaultKind { kSpike, kDrift, kStep, kOscillation, kStuck, kLeak, kOverload, kBearing };

std::string_view faultKindName(FaultKind kind);
// Sensor faults distort one sensor's readings (applied by the core); the others are process faults
// that change the physics (applied by the domain).
bool isSensorFault(FaultKind kind);

inline constexpr FaultKind kSensorFaultKinds[] = {FaultKind::kSpike, FaultKind::kDrift,
                                                  FaultKind::kStep, FaultKind::kOscillation,
                                                  FaultKind::kStuck};

// A fault an asset can suffer, as its domain offers it to the scheduler.
struct FaultOption {
  FaultKind kind = FaultKind::kSpike;
  std::vector<std::size_t> sensors;  // indices into the asset's sensors
  double min_magnitude = 0.0;        // process faults; sensor faults scale with the sensor's band
  double max_magnitude = 0.0;
};

struct Asset {
  std::string name;  // "feeder1"
  std::vector<SensorInfo> sensors;
  std::vector<FaultOption> faults;
};

// Offers every sensor fault kind on each of `sensors`.
void addSensorFaults(Asset& asset, std::initializer_list<std::size_t> sensors);

// A scheduled fault with the indices the core works with.
struct PlannedFault {
  FaultInterval interval;
  FaultKind kind = FaultKind::kSpike;
  std::size_t asset = 0;             // simulator-wide asset index
  std::vector<std::size_t> sensors;  // simulator-wide sensor indices
};

// Draws each asset's faults as a Poisson process from the asset's own random stream: the kind
// uniformly among those the asset offers, then the sensor, duration and magnitude. Faults of one
// asset never overlap and are drawn in the same order however far ahead they are asked for.
class FaultScheduler {
 public:
  struct Target {
    std::string domain;
    const Asset* asset;        // outlives the scheduler
    std::size_t first_sensor;  // simulator-wide index of asset->sensors[0]
  };

  FaultScheduler(std::uint64_t seed, double rate_per_hour, std::int64_t start_ns,
                 std::vector<Target> targets);

  // Appends, sorted by start, every fault starting before horizon_ns not returned before.
  void planUntil(std::int64_t horizon_ns, std::vector<PlannedFault>& out);

 private:
  struct Stream {
    std::size_t target;
    Rng rng;
    std::vector<FaultKind> kinds;  // distinct kinds the asset offers
    std::int64_t next_start = std::numeric_limits<std::int64_t>::max();
  };
  PlannedFault draw(Stream& stream);
  std::int64_t gapNs(Rng& rng) const;

  double rate_per_hour_;
  std::vector<Target> targets_;
  std::vector<Stream> streams_;
};

// What a sensor under a sensor fault reports instead of the true `value`. `held` is the last value
// it reported before the fault (a stuck sensor keeps it); rate_hz paces the oscillation.
double applySensorFault(FaultKind kind, const FaultInterval& fault, double rate_hz,
                        std::int64_t ts_ns, double value, double held);

}  // namespace sie::sim
