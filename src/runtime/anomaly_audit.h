// AnomalyAudit: the audit records of anomaly decisions, rate limited per function and sensor, so
// a flood of anomalous readings cannot grow the chain without bound. Each (function, sensor) may
// add `burst` records at once and `per_second` after that; the records over the rate are counted,
// never dropped silently: one summary record ("N more suppressed") is written before that pair's
// next record, once a second for pairs that keep flooding, and by flush() when the node stops.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "security/rate_limiter.h"
#include "sie/clock.h"
#include "sie/metrics.h"
#include "sie/state.h"

namespace sie::node {

class AnomalyAudit {
 public:
  struct Options {
    double per_second = 0;  // 0: no limit
    double burst = 20;
  };

  AnomalyAudit(AuditLog& audit, const Clock& clock, Options options);

  // Appends one anomaly record (kind "decision", subject `function`) or counts it.
  Status record(std::string_view function, std::string_view sensor, std::string_view body);
  // Writes the summary of every pair with records suppressed since its last summary.
  void flush();

 private:
  struct Suppressed {
    std::string function;
    std::string sensor;
    std::uint64_t count = 0;
    std::int64_t first_ns = 0;
    std::int64_t last_ns = 0;
    std::int64_t summarized_ns = 0;  // when the last summary was written
  };
  // Pairs with suppressed records are kept until summarized; beyond this many, new pairs share
  // one entry (sensor "*"), so the table stays bounded.
  static constexpr std::size_t kMaxPending = 10'000;

  // Under mu_.
  Status summarizeLocked(Suppressed& s);

  AuditLog& audit_;
  const Clock& clock_;
  security::RateLimiter limiter_;
  std::mutex mu_;
  std::unordered_map<std::string, Suppressed> pending_;
  Counter& suppressed_total_;
};

}  // namespace sie::node
