// Helpers shared by the simulator tests.
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "adapters/sim/simulator.h"

namespace sie::sim::testing {

inline constexpr std::int64_t kSecond = 1'000'000'000;
inline constexpr std::int64_t kHour = 3600 * kSecond;

// Readings of the first `seconds` of a run.
inline std::vector<Telemetry> runFor(const SimOptions& options, double seconds) {
  Simulator sim(options);
  std::vector<Telemetry> out;
  sim.advance(sim.now() + static_cast<std::int64_t>(seconds * kSecond), out);
  return out;
}

// Scalar readings of one sensor by timestamp.
inline std::map<std::int64_t, double> series(const std::vector<Telemetry>& readings,
                                             std::string_view sensor) {
  std::map<std::int64_t, double> out;
  for (const Telemetry& r : readings) {
    if (r.sensor.str() == sensor) out.emplace(r.ts_ns, r.value());
  }
  return out;
}

inline double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
}

inline double variance(const std::vector<double>& v) {
  const double m = mean(v);
  double sum = 0;
  for (double x : v) sum += (x - m) * (x - m);
  return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
}

// Values of a series with from <= ts < to.
inline std::vector<double> between(const std::map<std::int64_t, double>& s, std::int64_t from,
                                   std::int64_t to) {
  std::vector<double> out;
  for (auto it = s.lower_bound(from); it != s.end() && it->first < to; ++it) {
    out.push_back(it->second);
  }
  return out;
}

// Amplitude of the frequency `hz` in a Hann-windowed block sampled at `rate_hz`: one DFT bin.
inline double amplitudeAt(const std::vector<double>& block, double rate_hz, double hz) {
  const double n = static_cast<double>(block.size());
  std::complex<double> sum = 0;
  for (std::size_t i = 0; i < block.size(); ++i) {
    const double k = static_cast<double>(i);
    const double window = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * k / n);
    sum += block[i] * window * std::polar(1.0, -2 * std::numbers::pi * hz * k / rate_hz);
  }
  return 2.0 * std::abs(sum) / (0.5 * n);  // Hann's coherent gain is 0.5
}

// Energy per sample above `from_hz`, from the DFT bins of the block.
inline double bandEnergy(const std::vector<double>& block, double rate_hz, double from_hz) {
  const std::size_t n = block.size();
  double energy = 0;
  for (std::size_t k = 1; k < n / 2; ++k) {
    const double hz = rate_hz * static_cast<double>(k) / static_cast<double>(n);
    if (hz < from_hz) continue;
    std::complex<double> sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      sum += block[i] * std::polar(1.0, -2 * std::numbers::pi * static_cast<double>(k * i) /
                                            static_cast<double>(n));
    }
    energy += 2.0 * std::norm(sum) / static_cast<double>(n * n);
  }
  return energy;
}

}  // namespace sie::sim::testing
