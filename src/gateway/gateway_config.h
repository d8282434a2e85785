// Gateway configuration: the `gateway:` and `routes:` blocks of the node's YAML.
//
//   gateway:
//     maxPayloadBytes: 1048576   # larger payloads are dead-lettered as oversize
//     unmatched: accept          # accept | reject readings whose sensor matches no route
//   routes:                      # first matching route wins
//     - match: "grid/+/voltage"  # sensor id pattern, MQTT wildcards
//       validate: {min: 180, max: 280, maxAge: 60s, maxFuture: 5s, onInvalid: reject}
//       filters:                 # applied in order
//         - {type: median, window: 5, k: 3}
//         - {type: deadband, delta: 0.2}
//         - {type: ema, alpha: 0.3}
//         - {type: rateLimit, minInterval: 1s}
//         - {type: downsample, interval: 10s, aggregate: mean}   # mean | min | max | last
//
// Unknown keys, wrong types and out-of-range values are errors naming file:line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/config_table.h"
#include "core/topic_pattern.h"
#include "gateway/filter.h"
#include "gateway/validator.h"
#include "sie/result.h"

namespace sie::gateway {

struct RouteSpec {
  TopicPattern match;
  ValidationSpec validate;
  std::vector<FilterSpec> filters;
  std::string where;  // "site.yaml:12", for messages
};

struct GatewayConfig {
  std::size_t max_payload_bytes = 1 << 20;
  bool reject_unmatched = false;  // `unmatched: reject`
  std::vector<RouteSpec> routes;  // first match wins
};

// Either node may be null or undefined (defaults). `file` names the source in messages.
Result<GatewayConfig> parseGatewayConfig(const YAML::Node& gateway_block,
                                         const YAML::Node& routes_block, std::string_view file);

// Every key of every block, one per line, for --help and generated docs.
std::string describeGatewayConfig();
// The site file's spec.gateway and spec.routes blocks, for the generated reference.
std::vector<ConfigSection> gatewaySections();

}  // namespace sie::gateway
