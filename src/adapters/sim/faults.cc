#include "adapters/sim/faults.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "adapters/sim/signals.h"

namespace sie::sim {
namespace {

// Quiet time before the first fault, so detectors can learn the normal signal.
constexpr double kWarmupS = 60.0;
// Quiet time after each fault, so lagging effects (a cooling bearing) settle before the next one.
constexpr double kMinGapS = 30.0;

struct Range {
  double lo;
  double hi;
};

// Seconds a fault lasts (spikes: sample periods of the sensor instead).
Range durationS(FaultKind kind) {
  switch (kind) {
    case FaultKind::kSpike: return {1, 3};
    case FaultKind::kDrift: return {120, 600};
    case FaultKind::kStep: return {30, 300};
    case FaultKind::kOscillation: return {30, 180};
    case FaultKind::kStuck: return {60, 300};
    case FaultKind::kLeak: return {300, 1800};
    case FaultKind::kOverload: return {30, 300};
    case FaultKind::kBearing: return {120, 900};
  }
  return {60, 60};
}

// Sensor fault size as a fraction of the sensor's nominal band.
Range bandFraction(FaultKind kind) {
  switch (kind) {
    case FaultKind::kSpike: return {0.6, 1.2};
    case FaultKind::kDrift: return {0.3, 0.6};
    case FaultKind::kStep: return {0.2, 0.5};
    case FaultKind::kOscillation: return {0.15, 0.3};
    default: return {0, 0};
  }
}

std::int64_t toNs(double seconds) {
  return std::llround(seconds * static_cast<double>(kNsPerSecond));
}

}  // namespace

std::string_view faultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kSpike: return "spike";
    case FaultKind::kDrift: return "drift";
    case FaultKind::kStep: return "step";
    case FaultKind::kOscillation: return "oscillation";
    case FaultKind::kStuck: return "stuck";
    case FaultKind::kLeak: return "leak";
    case FaultKind::kOverload: return "overload";
    case FaultKind::kBearing: return "bearing";
  }
  return "unknown";
}

bool isSensorFault(FaultKind kind) {
  return std::find(std::begin(kSensorFaultKinds), std::end(kSensorFaultKinds), kind) !=
         std::end(kSensorFaultKinds);
}

void addSensorFaults(Asset& asset, std::initializer_list<std::size_t> sensors) {
  for (const FaultKind kind : kSensorFaultKinds) {
    for (const std::size_t sensor : sensors) asset.faults.push_back({kind, {sensor}, 0, 0});
  }
}

FaultScheduler::FaultScheduler(std::uint64_t seed, double rate_per_hour, std::int64_t start_ns,
                               std::vector<Target> targets)
    : rate_per_hour_(rate_per_hour), targets_(std::move(targets)) {
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    const Asset& asset = *targets_[i].asset;
    Stream stream{i, Rng(streamSeed(seed, "faults/" + targets_[i].domain + "/" + asset.name)), {}};
    for (const FaultOption& option : asset.faults) {
      if (std::find(stream.kinds.begin(), stream.kinds.end(), option.kind) == stream.kinds.end()) {
        stream.kinds.push_back(option.kind);
      }
    }
    if (rate_per_hour_ > 0 && !stream.kinds.empty()) {
      stream.next_start = start_ns + toNs(kWarmupS) + gapNs(stream.rng);
    }
    streams_.push_back(std::move(stream));
  }
}

std::int64_t FaultScheduler::gapNs(Rng& rng) const {
  return toNs(rng.exponential(rate_per_hour_ / 3600.0));
}

void FaultScheduler::planUntil(std::int64_t horizon_ns, std::vector<PlannedFault>& out) {
  const std::size_t first_new = out.size();
  for (Stream& stream : streams_) {
    while (stream.next_start < horizon_ns) out.push_back(draw(stream));
  }
  std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(first_new), out.end(),
                   [](const PlannedFault& a, const PlannedFault& b) {
                     return a.interval.start_ns < b.interval.start_ns;
                   });
}

PlannedFault FaultScheduler::draw(Stream& stream) {
  const Target& target = targets_[stream.target];
  const Asset& asset = *target.asset;
  Rng& rng = stream.rng;
  // A fixed number of draws per fault keeps every later fault independent of earlier choices.
  const FaultKind kind = stream.kinds[rng.index(stream.kinds.size())];
  std::vector<const FaultOption*> options;
  for (const FaultOption& option : asset.faults) {
    if (option.kind == kind) options.push_back(&option);
  }
  const FaultOption& option = *options[rng.index(options.size())];
  const double u_duration = rng.uniform();
  const double u_magnitude = rng.uniform();
  const double sign = rng.sign();

  PlannedFault fault;
  fault.kind = kind;
  fault.asset = stream.target;
  FaultInterval& interval = fault.interval;
  interval.kind = faultKindName(kind);
  interval.domain = target.domain;
  interval.asset = asset.name;
  double slowest_hz = 0;
  for (const std::size_t s : option.sensors) {
    const SensorInfo& info = asset.sensors[s];
    fault.sensors.push_back(target.first_sensor + s);
    interval.sensors.push_back(info.id);
    slowest_hz = slowest_hz == 0 ? info.rate_hz : std::min(slowest_hz, info.rate_hz);
  }
  const Range duration = durationS(kind);
  double seconds = duration.lo + (duration.hi - duration.lo) * u_duration;
  if (kind == FaultKind::kSpike) seconds /= slowest_hz;  // one to three samples
  if (isSensorFault(kind)) {
    const SensorInfo& info = asset.sensors[option.sensors.front()];
    const Range fraction = bandFraction(kind);
    const double size = (info.nominal_max - info.nominal_min) *
                        (fraction.lo + (fraction.hi - fraction.lo) * u_magnitude);
    interval.magnitude = kind == FaultKind::kOscillation ? size : sign * size;
  } else {
    interval.magnitude =
        option.min_magnitude + (option.max_magnitude - option.min_magnitude) * u_magnitude;
  }
  interval.start_ns = stream.next_start;
  interval.end_ns = interval.start_ns + toNs(seconds);
  stream.next_start = interval.end_ns + toNs(kMinGapS) + gapNs(rng);
  return fault;
}

double applySensorFault(FaultKind kind, const FaultInterval& fault, double rate_hz,
                        std::int64_t ts_ns, double value, double held) {
  const double elapsed_s =
      static_cast<double>(ts_ns - fault.start_ns) / static_cast<double>(kNsPerSecond);
  switch (kind) {
    case FaultKind::kSpike:
    case FaultKind::kStep: return value + fault.magnitude;
    case FaultKind::kDrift: {
      const double length_s =
          static_cast<double>(fault.end_ns - fault.start_ns) / static_cast<double>(kNsPerSecond);
      return value + fault.magnitude * elapsed_s / length_s;
    }
    case FaultKind::kOscillation: {
      const double period_s = 10.0 / rate_hz;  // ten samples per cycle
      return value + fault.magnitude * std::sin(2.0 * std::numbers::pi * elapsed_s / period_s);
    }
    case FaultKind::kStuck: return held;
    default: return value;
  }
}

}  // namespace sie::sim
