#include "adapters/sim/domain.h"

#include <string>

namespace sie::sim {
namespace {

constexpr DomainType kDomainTypes[] = {
    {"grid", 3, makeGrid},         {"hvac", 4, makeHvac},
    {"rotating", 2, makeRotating}, {"datacenter", 2, makeDatacenter},
    {"water", 3, makeWater},
};

}  // namespace

std::span<const DomainType> domainTypes() { return kDomainTypes; }

SensorInfo makeSensor(std::string_view domain, std::string_view asset, std::string_view signal,
                      std::string_view unit, double nominal_min, double nominal_max, double rate_hz,
                      bool block) {
  SensorInfo info;
  info.id = std::string(domain) + "/" + std::string(asset) + "/" + std::string(signal);
  info.domain = domain;
  info.asset = asset;
  info.signal = signal;
  info.unit = unit;
  info.nominal_min = nominal_min;
  info.nominal_max = nominal_max;
  info.rate_hz = rate_hz;
  info.block = block;
  return info;
}

Rng assetRng(const DomainSetup& setup, std::string_view domain, std::string_view asset) {
  return Rng(streamSeed(setup.seed, "plant/" + std::string(domain) + "/" + std::string(asset)));
}

}  // namespace sie::sim
