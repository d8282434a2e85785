// A flood of anomalies from one sensor is rate limited in the audit chain, and every record over
// the rate is counted into a summary record, never dropped silently.
#include "runtime/anomaly_audit.h"

#include <atomic>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sie::node {
namespace {

class MemoryAudit final : public AuditLog {
 public:
  Result<std::int64_t> append(std::string_view kind, std::string_view subject,
                              std::string_view body) override {
    records.push_back({static_cast<std::int64_t>(records.size() + 1), 0, std::string(kind),
                       std::string(subject), std::string(body)});
    return records.back().seq;
  }
  Result<std::vector<AuditRecord>> tail(std::size_t) override { return records; }
  Result<AuditVerifyReport> verify() override { return AuditVerifyReport{}; }
  std::vector<AuditRecord> records;
};

class StepClock final : public Clock {
 public:
  [[nodiscard]] std::int64_t nowNs() const override { return now_.load(); }
  [[nodiscard]] std::int64_t monotonicNs() const override { return now_.load(); }
  void advance(std::chrono::nanoseconds d) { now_ += d.count(); }

 private:
  std::atomic<std::int64_t> now_{1'000'000'000};
};

// Suppressed records named by the summaries among `records`.
std::uint64_t summarized(const std::vector<AuditRecord>& records, std::string_view sensor) {
  std::uint64_t total = 0;
  for (const AuditRecord& r : records) {
    const auto body = nlohmann::json::parse(r.body);
    if (body.contains("suppressed") && body["sensor"] == sensor) {
      total += body["suppressed"].get<std::uint64_t>();
    }
  }
  return total;
}

std::size_t anomalies(const std::vector<AuditRecord>& records, std::string_view sensor) {
  std::size_t n = 0;
  for (const AuditRecord& r : records) {
    const auto body = nlohmann::json::parse(r.body);
    if (!body.contains("suppressed") && body["sensor"] == sensor) ++n;
  }
  return n;
}

std::string body(std::string_view sensor) {
  return nlohmann::json{{"sensor", sensor}, {"anomaly", true}}.dump();
}

std::uint64_t suppressedMetric() { return metrics().counterTotal("sie_audit_suppressed_total"); }

TEST(AnomalyAuditTest, FloodIsRateLimitedAndCounted) {
  MemoryAudit audit;
  StepClock clock;
  AnomalyAudit limited(audit, clock, {.per_second = 2, .burst = 5});
  const std::uint64_t metric_before = suppressedMetric();

  // 1000 anomalies within 100 ms: the burst is recorded, the rest counted.
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(limited.record("pump@1", "pump/vib", body("pump/vib")));
    clock.advance(std::chrono::microseconds(100));
  }
  EXPECT_EQ(anomalies(audit.records, "pump/vib"), 5U);
  EXPECT_EQ(suppressedMetric() - metric_before, 995U);

  // A quiet sensor of the same function is not held back by the flooding one.
  ASSERT_TRUE(limited.record("pump@1", "pump/temp", body("pump/temp")));
  EXPECT_EQ(anomalies(audit.records, "pump/temp"), 1U);

  // Once the sensor may record again, the count comes first, then the record.
  clock.advance(std::chrono::seconds(1));
  ASSERT_TRUE(limited.record("pump@1", "pump/vib", body("pump/vib")));
  ASSERT_GE(audit.records.size(), 2U);
  const auto summary = nlohmann::json::parse(audit.records[audit.records.size() - 2].body);
  EXPECT_EQ(summary["detail"], "995 more anomaly records suppressed by the rate limit");
  EXPECT_EQ(audit.records[audit.records.size() - 2].subject, "pump@1");
  EXPECT_EQ(summarized(audit.records, "pump/vib"), 995U);
  EXPECT_EQ(anomalies(audit.records, "pump/vib"), 6U);
}

TEST(AnomalyAuditTest, EveryAnomalyIsRecordedOrCounted) {
  MemoryAudit audit;
  StepClock clock;
  AnomalyAudit limited(audit, clock, {.per_second = 10, .burst = 3});
  constexpr int kAnomalies = 5000;
  for (int i = 0; i < kAnomalies; ++i) {
    ASSERT_TRUE(limited.record("pump@1", "pump/vib", body("pump/vib")));
    clock.advance(std::chrono::milliseconds(1));
  }
  limited.flush();  // as the node does when it stops
  EXPECT_EQ(anomalies(audit.records, "pump/vib") + summarized(audit.records, "pump/vib"),
            static_cast<std::uint64_t>(kAnomalies));
  // 5 s of flood at 10/s plus the burst, each record after a gap preceded by its count: the chain
  // holds about a hundred records for five thousand anomalies.
  EXPECT_LT(audit.records.size(), 120U);
}

TEST(AnomalyAuditTest, NoLimitRecordsEverything) {
  MemoryAudit audit;
  StepClock clock;
  AnomalyAudit unlimited(audit, clock, {});
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(unlimited.record("f@1", "s", body("s")));
  unlimited.flush();
  EXPECT_EQ(audit.records.size(), 100U);
}

}  // namespace
}  // namespace sie::node
