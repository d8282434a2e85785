// Metrics in the Prometheus data model, rendered in the text exposition format (0.0.4) on the
// node's /metrics. Instruments are lock-free to update; look them up once and keep the reference
// (references stay valid for the registry's lifetime).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sie {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  [[nodiscard]] double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Latency histogram with fixed bucket bounds in seconds.
class Histogram {
 public:
  static constexpr std::array<double, 16> kLatencyBounds = {
      1e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 0.05, 0.1, 1.0, 10.0};

  void observe(double seconds);
  [[nodiscard]] std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  [[nodiscard]] double sum() const { return sum_.load(std::memory_order_relaxed); }
  // Cumulative count of observations <= kLatencyBounds[i].
  [[nodiscard]] std::uint64_t cumulative(std::size_t i) const;
  // Estimated quantile (linear within the bucket), in seconds; 0 with no observations.
  [[nodiscard]] double quantile(double q) const;

 private:
  std::array<std::atomic<std::uint64_t>, kLatencyBounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

class MetricsRegistry {
 public:
  // Returns the instrument for (name, labels), creating it on first use. The same name must always
  // be used with the same kind.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels = {});

  // Prometheus text exposition format.
  [[nodiscard]] std::string render() const;
  // Sum of a counter family over all label sets (0 when absent); for summaries and tests.
  [[nodiscard]] std::uint64_t counterTotal(std::string_view name) const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    Kind kind;
    std::string help;
    std::vector<std::unique_ptr<Series>> series;
  };
  Series& series(std::string_view name, std::string_view help, Kind kind, const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

// The process-wide registry that /metrics serves.
MetricsRegistry& metrics();

}  // namespace sie
