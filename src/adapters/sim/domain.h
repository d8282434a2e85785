// The internal interface between the simulator core and its domain models (grid.cc, hvac.cc,
// rotating.cc, datacenter.cc, water.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "adapters/sim/faults.h"
#include "adapters/sim/simulator.h"

namespace sie::sim {

// Where a domain's tick() puts its readings. Asset and sensor indices are the domain's own (the
// order of Domain::assets() and Asset::sensors).
class TickSink {
 public:
  virtual ~TickSink() = default;
  // The process fault (leak, overload, bearing) active on the asset at ts_ns, or nullptr.
  [[nodiscard]] virtual const FaultInterval* processFault(std::size_t asset,
                                                          std::int64_t ts_ns) const = 0;
  virtual void emit(std::size_t asset, std::size_t sensor, std::int64_t ts_ns, double value) = 0;
  virtual void emitBlock(std::size_t asset, std::size_t sensor, std::int64_t ts_ns,
                         std::int64_t sample_period_ns, std::vector<double> values) = 0;
};

// One simulated domain. It draws randomness only from its own seeded streams, and the same number
// of draws whatever faults are active, so a run without faults is the same plant as a run with
// them.
class Domain {
 public:
  virtual ~Domain() = default;
  [[nodiscard]] virtual const std::vector<Asset>& assets() const = 0;
  // Timestamp of the next readings (strictly increasing).
  [[nodiscard]] virtual std::int64_t nextTick() const = 0;
  // Emits the readings stamped nextTick() and moves on.
  virtual void tick(TickSink& sink) = 0;
};

struct DomainSetup {
  std::uint64_t seed = 0;
  int assets = 1;
  std::int64_t start_ns = 0;
  int vibration_rate_hz = 2000;
  int vibration_block = 256;
};

struct DomainType {
  std::string_view name;
  int default_assets;
  std::unique_ptr<Domain> (*make)(const DomainSetup& setup);
};

// The known domains, in their default order.
std::span<const DomainType> domainTypes();

std::unique_ptr<Domain> makeGrid(const DomainSetup& setup);
std::unique_ptr<Domain> makeHvac(const DomainSetup& setup);
std::unique_ptr<Domain> makeRotating(const DomainSetup& setup);
std::unique_ptr<Domain> makeDatacenter(const DomainSetup& setup);
std::unique_ptr<Domain> makeWater(const DomainSetup& setup);

// A sensor of `asset` in `domain`, with id "<domain>/<asset>/<signal>".
SensorInfo makeSensor(std::string_view domain, std::string_view asset, std::string_view signal,
                      std::string_view unit, double nominal_min, double nominal_max, double rate_hz,
                      bool block = false);

// The random stream of one asset's physics.
Rng assetRng(const DomainSetup& setup, std::string_view domain, std::string_view asset);

}  // namespace sie::sim
