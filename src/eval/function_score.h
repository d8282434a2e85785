// How well a function's decisions match the ground truth, point-wise: every decision (one per
// triggering reading) is a true or false positive or negative; readings it did not score
// (warming up, bad quality) count as negatives.
#pragma once

#include <cstdint>
#include <string>

#include "sie/function.h"

namespace sie::node {

struct FunctionScore {
  std::string function;     // name@version (or, per file, the file)
  std::string baseline_of;  // for a baseline row: the function it is the baseline of
  std::uint64_t decisions = 0;
  std::uint64_t not_scored = 0;
  std::uint64_t tp = 0, fp = 0, fn = 0, tn = 0;
  std::uint64_t false_alarms = 0;  // runs of false positives on one sensor, each counted once
  std::uint64_t faults = 0;        // faults the function should detect
  std::uint64_t detected = 0;      // of those, with at least one true positive
  double median_delay_s = 0.0;     // fault start to the first true positive, over detected faults
  double hours = 0.0;              // of data

  // Adds a decision: `predicted` anomaly, `actual` anomaly.
  void count(bool predicted, bool actual);
  [[nodiscard]] double precision() const;
  [[nodiscard]] double recall() const;
  [[nodiscard]] double f1() const;
  [[nodiscard]] double falseAlarmsPerHour() const;
  [[nodiscard]] double falseAlarmRate() const;   // FAR: share of normal points flagged
  [[nodiscard]] double missedAlarmRate() const;  // MAR: share of anomalous points missed
};

// A decision the function answered without scoring (warming up, bad quality, invalid value).
bool notScored(const Decision& d);

}  // namespace sie::node
