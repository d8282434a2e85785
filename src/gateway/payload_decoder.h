// Picks the decoder for a raw message: by content type, or by sniffing the first byte.
#pragma once

#include <string_view>
#include <vector>

#include "gateway/decoded.h"
#include "sie/result.h"
#include "sie/source.h"

namespace sie::gateway {

// Content types (parameters such as "; charset=utf-8" and letter case are ignored):
//   application/json                      telemetry objects or CloudEvents, single or batched
//   application/cloudevents+json          structured CloudEvents (one, or an array)
//   application/cloudevents-batch+json    an array of structured CloudEvents
//   application/cbor                      a CBOR map or array of maps
//   text/plain                            one number ("42.5"): a reading of the topic's sensor,
//                                         stamped with the receive time
//   "" (none)                             sniffed: one number as text/plain; a first byte
//                                         0x80-0xBF (a CBOR array or map) is CBOR, anything else
//                                         JSON; no JSON text starts so.
// Appends one Decoded per telemetry object to `out` (see decodeJson).
Status decodePayload(const RawMessage& message, std::vector<Decoded>& out);

}  // namespace sie::gateway
