#include "eval/function_score.h"

namespace sie::node {
namespace {

double ratio(std::uint64_t a, std::uint64_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

}  // namespace

bool notScored(const Decision& d) {
  return d.label == "warming-up" || d.label == "bad-quality" || d.label == "invalid-value";
}

void FunctionScore::count(bool predicted, bool actual) {
  ++decisions;
  if (actual) {
    ++(predicted ? tp : fn);
  } else {
    ++(predicted ? fp : tn);
  }
}

double FunctionScore::precision() const { return ratio(tp, tp + fp); }
double FunctionScore::recall() const { return ratio(tp, tp + fn); }
double FunctionScore::f1() const {
  const double p = precision(), r = recall();
  return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
}
double FunctionScore::falseAlarmsPerHour() const {
  return hours > 0 ? static_cast<double>(false_alarms) / hours : 0.0;
}
double FunctionScore::falseAlarmRate() const { return ratio(fp, fp + tn); }
double FunctionScore::missedAlarmRate() const { return ratio(fn, fn + tp); }

}  // namespace sie::node
