// A JSON rendering of a decoded reading, in the plain telemetry format the JSON decoder accepts
// (non-finite values as "NaN"/"Infinity"/"-Infinity"), for dead letters of readings that were
// decoded or never were raw bytes.
#pragma once

#include <string>

#include "sie/event.h"

namespace sie::gateway {

// {"sensor":"a/b","ts":1,"value":2.5,"quality":"good"}; blocks use "values" and "period_ns";
// "flag" is added when set.
std::string renderTelemetryJson(const Telemetry& reading);

}  // namespace sie::gateway
