// CBOR telemetry decoding: a map with the keys of plain JSON telemetry (json_decoder.h), or an
// array (batch) of such maps. Numbers may be integers or half/single/double floats; tags around
// values are ignored.
#pragma once

#include <string_view>
#include <vector>

#include "gateway/decoded.h"
#include "sie/result.h"

namespace sie::gateway {

// Same contract as decodeJson: one Decoded per map (errors per map), or an error for a payload
// that is not one well-formed CBOR item (truncated, malformed, trailing bytes, too deep).
Status decodeCbor(std::string_view payload, const DecodeContext& context,
                  std::vector<Decoded>& out);

}  // namespace sie::gateway
