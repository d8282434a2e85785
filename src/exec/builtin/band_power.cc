#include "exec/builtin/band_power.h"

#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <shared_mutex>
#include <vector>

#include <fftw3.h>
#include <fmt/format.h>

namespace sie::builtin {
namespace {

struct Plan {
  fftw_plan plan = nullptr;
  std::vector<double> window;  // periodic Hann
  double window_power = 0.0;   // sum of window[i]^2
};

// Every FFTW planner call in sie goes through this cache: the planner is not thread-safe.
class PlanCache {
 public:
  Result<const Plan*> get(std::size_t n) {
    {
      std::shared_lock lock(mu_);
      if (auto it = plans_.find(n); it != plans_.end()) return it->second.get();
    }
    std::unique_lock lock(mu_);
    if (auto it = plans_.find(n); it != plans_.end()) return it->second.get();
    if (plans_.size() >= kMaxPlans) {
      return fail(Errc::kOverload,
                  fmt::format("block of {} samples: already {} distinct block sizes planned", n,
                              kMaxPlans));
    }
    auto p = std::make_unique<Plan>();
    // Planning arrays come from fftw_malloc, as do the per-thread buffers the plan later runs on,
    // so their alignment matches as the new-array execute functions require.
    double* in = fftw_alloc_real(n);
    fftw_complex* out = fftw_alloc_complex(n / 2 + 1);
    p->plan = fftw_plan_dft_r2c_1d(static_cast<int>(n), in, out, FFTW_ESTIMATE);
    fftw_free(in);
    fftw_free(out);
    if (p->plan == nullptr) {
      return fail(Errc::kInternal, fmt::format("FFTW could not plan a block of {} samples", n));
    }
    p->window.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double w = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) /
                                            static_cast<double>(n));
      p->window[i] = w;
      p->window_power += w * w;
    }
    return plans_.emplace(n, std::move(p)).first->second.get();
  }

 private:
  std::shared_mutex mu_;
  std::map<std::size_t, std::unique_ptr<Plan>> plans_;
};

PlanCache& planCache() {
  static auto* cache = new PlanCache();  // never destroyed: plans may run until process exit
  return *cache;
}

// Per-thread FFT buffers, grown to the largest block the thread has seen.
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    fftw_free(in_);
    fftw_free(out_);
  }

  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    fftw_free(in_);
    fftw_free(out_);
    in_ = fftw_alloc_real(n);
    out_ = fftw_alloc_complex(n / 2 + 1);
    capacity_ = n;
  }
  [[nodiscard]] double* in() const { return in_; }
  [[nodiscard]] fftw_complex* out() const { return out_; }

 private:
  double* in_ = nullptr;
  fftw_complex* out_ = nullptr;
  std::size_t capacity_ = 0;
};

}  // namespace

Result<BandPower> bandPower(std::span<const double> block, double sample_rate_hz, double low_hz,
                            double high_hz) {
  const std::size_t n = block.size();
  if (n < 2 || n > kMaxBlock) {
    return fail(Errc::kInvalidArgument,
                fmt::format("block of {} samples is outside [2, {}]", n, kMaxBlock));
  }
  const Plan* plan = SIE_TRY(planCache().get(n));
  thread_local Scratch scratch;
  scratch.reserve(n);
  double mean = 0.0;
  for (double v : block) mean += v;
  mean /= static_cast<double>(n);
  double* in = scratch.in();
  for (std::size_t i = 0; i < n; ++i) in[i] = (block[i] - mean) * plan->window[i];
  fftw_execute_dft_r2c(plan->plan, in, scratch.out());

  // Parseval: sum over all n bins of |X|^2 = n * sum((x w)^2); dividing by sum(w^2) compensates
  // the window. Bins 1 .. n/2-1 stand for their mirror images too, hence the factor 2.
  const double norm = 1.0 / (static_cast<double>(n) * plan->window_power);
  const std::size_t half = n / 2;
  const double bin_hz = sample_rate_hz / static_cast<double>(n);
  BandPower out;
  const fftw_complex* spectrum = scratch.out();
  for (std::size_t k = 0; k <= half; ++k) {
    const double mirrored = (k == 0 || (n % 2 == 0 && k == half)) ? 1.0 : 2.0;
    const double p =
        mirrored * norm * (spectrum[k][0] * spectrum[k][0] + spectrum[k][1] * spectrum[k][1]);
    out.total += p;
    const double f = static_cast<double>(k) * bin_hz;
    if (f >= low_hz && f <= high_hz) {
      out.band += p;
      ++out.bins;
    }
  }
  return out;
}

}  // namespace sie::builtin
