// JSON telemetry decoding with simdjson. Accepted shapes (see decoded.h for the keys):
//   {"sensor":"grid/f1/voltage","ts":1764300000000000000,"value":230.1}   plain telemetry
//   {"specversion":"1.0","id":..,"source":..,"type":..,"data":{...}}     structured CloudEvent
//   [ {...}, {...} ]                                                     a batch of either
// Telemetry keys: sensor (else the CloudEvent subject, else the topic); one of ts (epoch ns),
// ts_ms (epoch ms) or time (RFC 3339), else the CloudEvent time; value, or values plus period_ns
// for a block; quality (good|uncertain|bad). Keys named in DecodeContext::carry are copied into
// Telemetry::tags; other unknown keys are ignored.
#pragma once

#include <string_view>
#include <vector>

#include "gateway/decoded.h"
#include "sie/result.h"

namespace sie::gateway {

enum class JsonFlavor {
  kAny,          // telemetry objects or CloudEvents, single or batched ("application/json")
  kCloudEvents,  // every object must be a CloudEvent ("application/cloudevents+json")
};

// Appends one Decoded per object to `out`; an object that cannot be decoded is appended with its
// error set. Returns an error, appending nothing, when the payload as a whole is unusable (not
// JSON, not an object or array). Uses one parser per thread; allocates only the values vectors
// (and CloudEvent attributes).
Status decodeJson(std::string_view payload, const DecodeContext& context, JsonFlavor flavor,
                  std::vector<Decoded>& out);

}  // namespace sie::gateway
