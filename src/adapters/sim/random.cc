#include "adapters/sim/random.h"

#include <cmath>
#include <numbers>

namespace sie::sim {

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

double Rng::exponential(double rate) { return -std::log(1.0 - uniform()) / rate; }

std::size_t Rng::index(std::size_t n) {
  const auto i = static_cast<std::size_t>(uniform() * static_cast<double>(n));
  return i < n ? i : n - 1;
}

std::uint64_t streamSeed(std::uint64_t seed, std::string_view stream) {
  // FNV-1a over the name, then splitmix64 to spread nearby seeds apart.
  std::uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (const char c : stream) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  h += 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace sie::sim
