// The "builtin" runtime: functions compiled into sie (zscore, threshold, adaptive_threshold,
// rate_of_change, band_energy), selected by FunctionSpec::handler.
//
// Every handler answers a reading of bad quality with a non-anomalous decision labelled
// "bad-quality", and a reading with no values or a NaN/infinite value with one labelled
// "invalid-value"; neither is scored nor changes state. Window samples of bad quality or with a
// non-finite mean are skipped. An error Result means the function cannot work with what it was
// given (band_energy: no sample period, a block under 16 samples, a band above Nyquist or between
// bins; threshold: limits from the state layer that are NaN or crossed) and is counted. Instances
// keep nothing between calls and may be invoked from many threads at once. Metrics:
// sie_builtin_invocations_total{handler} and sie_builtin_errors_total{handler} (invocations that
// returned an error).
#pragma once

#include <memory>

#include "sie/function.h"

namespace sie::builtin {

// Registering a handler name twice is a programming error: this aborts with a message, so any
// test run catches it.
std::shared_ptr<Executor> makeExecutor();

}  // namespace sie::builtin
