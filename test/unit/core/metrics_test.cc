#include "sie/metrics.h"

#include <gtest/gtest.h>

namespace sie {
namespace {

TEST(MetricsTest, CountersAreKeyedByLabels) {
  MetricsRegistry r;
  r.counter("sie_test_total", "help", {{"stage", "a"}}).inc();
  r.counter("sie_test_total", "help", {{"stage", "a"}}).inc(2);
  r.counter("sie_test_total", "help", {{"stage", "b"}}).inc();
  EXPECT_EQ(r.counter("sie_test_total", "help", {{"stage", "a"}}).value(), 3u);
  EXPECT_EQ(r.counterTotal("sie_test_total"), 4u);
  EXPECT_EQ(r.counterTotal("absent_total"), 0u);
}

TEST(MetricsTest, RendersPrometheusTextFormat) {
  MetricsRegistry r;
  r.counter("sie_events_total", "Events seen.", {{"source", "sim \"x\""}}).inc(5);
  r.gauge("sie_queue_depth", "Queue depth.").set(7);
  r.histogram("sie_latency_seconds", "Latency.").observe(3e-6);
  const std::string text = r.render();
  EXPECT_NE(text.find("# TYPE sie_events_total counter"), std::string::npos);
  EXPECT_NE(text.find("sie_events_total{source=\"sim \\\"x\\\"\"} 5"), std::string::npos);
  EXPECT_NE(text.find("sie_queue_depth 7"), std::string::npos);
  EXPECT_NE(text.find("sie_latency_seconds_bucket{le=\"5e-06\"} 1"), std::string::npos);
  EXPECT_NE(text.find("sie_latency_seconds_bucket{le=\"1e-06\"} 0"), std::string::npos);
  EXPECT_NE(text.find("sie_latency_seconds_bucket{le=\"+Inf\"} 1"), std::string::npos);
  EXPECT_NE(text.find("sie_latency_seconds_count 1"), std::string::npos);
}

TEST(MetricsTest, HistogramQuantileFallsInTheRightBucket) {
  Histogram h;
  for (int i = 0; i < 99; ++i) h.observe(20e-6);
  h.observe(0.5);
  EXPECT_GT(h.quantile(0.5), 1e-5);
  EXPECT_LE(h.quantile(0.5), 2.5e-5);
  EXPECT_GT(h.quantile(0.999), 0.1);
  EXPECT_EQ(Histogram().quantile(0.5), 0.0);
}

}  // namespace
}  // namespace sie
