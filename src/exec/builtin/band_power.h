// Spectral band power of a sample block (FFTW3, real-to-complex, Hann window). Thread-safe:
// plans are made once per block size under a lock, then executed concurrently with per-thread
// buffers through FFTW's new-array execute functions.
#pragma once

#include <cstddef>
#include <span>

#include "sie/result.h"

namespace sie::builtin {

// Largest block accepted, and how many distinct block sizes get a plan; both bound the memory
// an unexpected sensor can make the node spend.
inline constexpr std::size_t kMaxBlock = std::size_t{1} << 20;
inline constexpr std::size_t kMaxPlans = 32;

// Mean squares in the block's squared units: `band` over the bins with low_hz <= f <= high_hz,
// `total` over the whole one-sided spectrum. The block mean is removed first; a Hann window is
// applied and compensated so that a tone's band power is close to its mean square.
struct BandPower {
  double band = 0.0;
  double total = 0.0;
  std::size_t bins = 0;  // bins inside the band
};

// Fails for blocks shorter than 2 or longer than kMaxBlock, or when kMaxPlans sizes are cached
// and `block` has a new one.
Result<BandPower> bandPower(std::span<const double> block, double sample_rate_hz, double low_hz,
                            double high_hz);

}  // namespace sie::builtin
