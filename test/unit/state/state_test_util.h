// Helpers shared by the state tests: a temporary data directory, a settable clock, and short
// ways to build readings.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sie/clock.h"
#include "sie/event.h"
#include "sie/state.h"
#include "state/embedded_store.h"

namespace sie::state::testing {

// A fresh directory under ::testing::TempDir(), removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "sie-state-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string db() const { return path_ + "/sie.db"; }

 private:
  std::string path_;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t now_ns = 1'700'000'000'000'000'000) : now_(now_ns) {}
  [[nodiscard]] std::int64_t nowNs() const override { return now_.load(); }
  [[nodiscard]] std::int64_t monotonicNs() const override { return now_.load(); }
  void advance(std::chrono::nanoseconds d) { now_ += d.count(); }

 private:
  std::atomic<std::int64_t> now_;
};

inline Telemetry scalar(std::string_view sensor, std::int64_t ts_ns, double value,
                        Quality quality = Quality::kGood) {
  Telemetry t;
  t.sensor = Symbol::intern(sensor);
  t.ts_ns = ts_ns;
  t.values = {value};
  t.quality = quality;
  return t;
}

inline Telemetry block(std::string_view sensor, std::int64_t ts_ns, std::vector<double> values,
                       std::int64_t period_ns) {
  Telemetry t;
  t.sensor = Symbol::intern(sensor);
  t.ts_ns = ts_ns;
  t.values = std::move(values);
  t.sample_period_ns = period_ns;
  return t;
}

inline std::vector<std::int64_t> timestamps(const std::vector<Sample>& samples) {
  std::vector<std::int64_t> out;
  for (const auto& s : samples) out.push_back(s.ts_ns);
  return out;
}

inline std::vector<std::int64_t> iota(std::int64_t from, std::int64_t to) {  // [from, to]
  std::vector<std::int64_t> out;
  for (std::int64_t i = from; i <= to; ++i) out.push_back(i);
  return out;
}

inline std::unique_ptr<StateStore> openOrDie(EmbeddedOptions options) {
  auto store = openEmbedded(options);
  if (!store) {
    ADD_FAILURE() << "openEmbedded: " << store.error().str();
    return nullptr;
  }
  return std::move(*store);
}

// Options for a store that commits only when asked (sync, close, or a full batch).
inline EmbeddedOptions manualOptions(const std::string& dir) {
  EmbeddedOptions options;
  options.data_dir = dir;
  options.batch_interval = std::chrono::hours(1);
  options.batch_max = std::size_t{1} << 30;
  return options;
}

}  // namespace sie::state::testing
