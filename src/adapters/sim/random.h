// Seeded randomness with the same output on every platform: std::mt19937_64 is fully specified by
// the standard, but its distributions are not, so the draws below are implemented here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>

namespace sie::sim {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal();
  // Exponential with the given rate (mean 1 / rate).
  double exponential(double rate);
  // Uniform in [0, n), n > 0.
  std::size_t index(std::size_t n);
  // +1 or -1 with equal probability.
  double sign() { return uniform() < 0.5 ? -1.0 : 1.0; }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// A seed for one named stream ("faults/grid/feeder1") derived from the run's seed, so adding a
// domain or an asset never changes the numbers another one draws.
std::uint64_t streamSeed(std::uint64_t seed, std::string_view stream);

}  // namespace sie::sim
