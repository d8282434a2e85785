#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "call_builder.h"
#include "exec/builtin/band_power.h"

namespace sie::builtin {
namespace {

using testing::Call;
using testing::makeSpec;

constexpr double kRateHz = 2000.0;
constexpr std::int64_t kPeriodNs = 500'000;  // 2 kHz

// `n` samples at 2 kHz: a sine of `amplitude` at `freq_hz` plus Gaussian noise and an offset.
std::vector<double> block(std::size_t n, double freq_hz, double amplitude, double noise = 0.05,
                          unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.0, noise);
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / kRateHz;
    out[i] = 3.0 + amplitude * std::sin(2 * std::numbers::pi * freq_hz * t) + dist(rng);
  }
  return out;
}

FunctionSpec spec(std::map<std::string, double> params = {{"threshold", 0.3}}) {
  params.emplace("band_low_hz", 250.0);
  params.emplace("band_high_hz", 350.0);
  return makeSpec("band_energy", std::move(params));
}

Call blockCall(const FunctionSpec& s, std::vector<double> values, std::int64_t period = kPeriodNs) {
  Call call(s);
  call.reading.sensor = Symbol::intern("plant/pump1/vib");
  call.reading.values = std::move(values);
  call.reading.sample_period_ns = period;
  return call;
}

class BuiltinBandEnergyBlockTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(BuiltinBandEnergyBlockTest, DetectsAToneInTheBandOnly) {
  const std::size_t n = GetParam();
  auto fn = testing::instantiate(spec());
  auto in_band = testing::decide(*fn, blockCall(spec(), block(n, 300.0, 1.0)));
  EXPECT_TRUE(in_band.anomaly);
  EXPECT_EQ(in_band.label, "band-energy");
  EXPECT_NEAR(in_band.score, std::sqrt(0.5) / 0.3, 0.1);

  auto outside = testing::decide(*fn, blockCall(spec(), block(n, 700.0, 1.0)));
  EXPECT_FALSE(outside.anomaly);
  EXPECT_EQ(outside.label, "normal");
  EXPECT_LT(outside.score, 0.2);

  auto quiet = testing::decide(*fn, blockCall(spec(), block(n, 300.0, 0.0)));
  EXPECT_FALSE(quiet.anomaly);
}

TEST_P(BuiltinBandEnergyBlockTest, RatioThresholdComparesWithTotalEnergy) {
  const std::size_t n = GetParam();
  auto s = spec({{"ratio_threshold", 0.5}});
  auto fn = testing::instantiate(s);
  auto in_band = testing::decide(*fn, blockCall(s, block(n, 300.0, 0.2)));
  EXPECT_TRUE(in_band.anomaly);
  EXPECT_GT(in_band.score, 1.6);  // ~90% of the energy in the band
  EXPECT_FALSE(testing::decide(*fn, blockCall(s, block(n, 900.0, 0.2))).anomaly);
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, BuiltinBandEnergyBlockTest, ::testing::Values(256, 1024));

TEST(BuiltinBandPowerTest, ToneRmsIsPreservedThroughTheWindow) {
  // On a bin (bin 150 of 1024 at 2 kHz) and between bins (300 Hz at 256 samples).
  auto on_bin = bandPower(block(1024, 150 * kRateHz / 1024, 2.0, 0.0), kRateHz, 200, 400);
  ASSERT_TRUE(on_bin.has_value());
  EXPECT_NEAR(std::sqrt(on_bin->band), std::sqrt(2.0), 0.01 * std::sqrt(2.0));
  EXPECT_NEAR(on_bin->band / on_bin->total, 1.0, 1e-9);

  auto off_bin = bandPower(block(256, 300.0, 2.0, 0.0), kRateHz, 250, 350);
  ASSERT_TRUE(off_bin.has_value());
  EXPECT_NEAR(std::sqrt(off_bin->band), std::sqrt(2.0), 0.03 * std::sqrt(2.0));
  EXPECT_EQ(off_bin->bins, 13u);  // 250..350 Hz at 7.8125 Hz per bin
}

TEST(BuiltinBandPowerTest, WhiteNoiseTotalIsItsVariance) {
  auto p = bandPower(block(4096, 0.0, 0.0, 0.5), kRateHz, 0, 1000);
  ASSERT_TRUE(p.has_value());
  EXPECT_NEAR(p->total, 0.25, 0.025);
  EXPECT_DOUBLE_EQ(p->band, p->total);
}

TEST(BuiltinBandPowerTest, BoundsTheNumberOfPlans) {
  // In a child process, so the cache filled here does not leak into other tests.
  EXPECT_EXIT(
      {
        for (std::size_t n = 3000; n < 3000 + 2 * kMaxPlans; ++n) {
          std::vector<double> values(n, 1.0);
          auto p = bandPower(values, kRateHz, 0, 1000);
          if (!p) std::exit(p.error().code == Errc::kOverload ? 0 : 1);
        }
        std::exit(2);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(BuiltinBandEnergyTest, BlocksThatDoNotFitAreErrors) {
  auto fn = testing::instantiate(spec());
  auto error = [&](const Call& call) {
    auto out = fn->invoke(call.invocation());
    return out ? std::string("no error") : out.error().message;
  };
  EXPECT_EQ(error(blockCall(spec(), block(256, 300, 1), 0)),
            "reading of 'plant/pump1/vib' is not a sample block (sample_period_ns 0)");
  EXPECT_EQ(error(blockCall(spec(), block(8, 300, 1))),
            "block of 8 samples from 'plant/pump1/vib' is too short (need >= 16)");
  EXPECT_EQ(error(blockCall(spec(), block(256, 300, 1), 2'000'000)),  // 500 Hz
            "band 250-350 Hz reaches above the Nyquist frequency 250 Hz of 'plant/pump1/vib'");
  auto narrow =
      makeSpec("band_energy", {{"band_low_hz", 130}, {"band_high_hz", 140}, {"threshold", 1}});
  auto fn_narrow = testing::instantiate(narrow);
  auto out = fn_narrow->invoke(blockCall(narrow, block(16, 300, 1)).invocation());
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().message,
            "band 130-140 Hz holds no FFT bin at 16 samples (bins 125 Hz apart)");
}

TEST(BuiltinBandEnergyTest, NonFiniteSamplesAreInvalidValues) {
  auto fn = testing::instantiate(spec());
  auto values = block(256, 300, 1);
  values[17] = std::numeric_limits<double>::quiet_NaN();
  auto d = testing::decide(*fn, blockCall(spec(), values));
  EXPECT_EQ(d.label, "invalid-value");
  EXPECT_FALSE(d.anomaly);
}

TEST(BuiltinBandEnergyTest, ValidatesTheBand) {
  EXPECT_EQ(testing::validationError(makeSpec(
                "band_energy", {{"band_low_hz", 400}, {"band_high_hz", 300}, {"threshold", 1}})),
            "spec.params.band_low_hz must be < band_high_hz (got 400 >= 300)");
  EXPECT_EQ(testing::validationError(
                makeSpec("band_energy", {{"band_low_hz", 100}, {"band_high_hz", 300}})),
            "spec.params needs threshold, ratio_threshold or both");
  EXPECT_EQ(
      testing::validationError(makeSpec("band_energy", {{"band_high_hz", 300}, {"threshold", 1}})),
      "spec.params.band_low_hz is required (lower edge of the band, Hz)");
  EXPECT_EQ(testing::validationError(spec({{"ratio_threshold", 1.5}})),
            "spec.params.ratio_threshold must be in (0, 1] (got 1.5)");
  EXPECT_EQ(testing::validationError(spec({{"threshold", 0}})),
            "spec.params.threshold must be > 0 (got 0)");
}

// Many threads, one shared instance, several block sizes (new plans are made while other threads
// execute). Run under TSan in CI.
TEST(BuiltinBandEnergyTest, ConcurrentInvocationsAgreeWithSerialOnes) {
  const std::vector<std::size_t> sizes = {256, 1024, 512, 2000, 4096, 100};
  const auto s = spec({{"threshold", 0.3}, {"ratio_threshold", 0.5}});
  auto fn = testing::instantiate(s);
  std::vector<Call> calls;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    calls.push_back(blockCall(s, block(sizes[i], i % 2 ? 300.0 : 700.0, 1.0, 0.05, 40 + i)));
  }
  constexpr int kThreads = 8;
  constexpr int kRounds = 50;
  std::vector<std::vector<double>> scores(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const Call& call = calls[static_cast<std::size_t>(t + r) % calls.size()];
        auto out = fn->invoke(call.invocation());
        scores[t].push_back(out && out->decision ? out->decision->score : -1.0);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    for (int r = 0; r < kRounds; ++r) {
      const Call& call = calls[static_cast<std::size_t>(t + r) % calls.size()];
      EXPECT_EQ(scores[t][r], testing::decide(*fn, call).score) << "thread " << t << " round " << r;
    }
  }
}

}  // namespace
}  // namespace sie::builtin
