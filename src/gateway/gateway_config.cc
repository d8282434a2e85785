#include "gateway/gateway_config.h"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "core/config_table.h"

namespace sie::gateway {
namespace {

using Type = ConfigKey::Type;

constexpr std::size_t kMaxPayloadLimit = 64 << 20;
constexpr std::size_t kMaxMedianWindow = 1001;

constexpr std::array kGatewayKeys = {
    ConfigKey{"maxPayloadBytes", Type::kInt, "1048576", "largest accepted payload in bytes"}.within(
        1, kMaxPayloadLimit),
    ConfigKey{"unmatched", Type::kString, "accept", "readings whose sensor matches no route"}.oneOf(
        "accept|reject"),
};
constexpr std::array kRouteKeys = {
    ConfigKey{"match", Type::kString, "",
              "sensor id pattern (MQTT wildcards + and #); the first matching route wins", true},
    ConfigKey{"validate", Type::kString, "", "map of checks (see validate keys)"},
    ConfigKey{"filters", Type::kString, "", "list of filters applied in order (see filter keys)"},
};
constexpr std::array kValidateKeys = {
    ConfigKey{"min", Type::kDouble, "", "smallest valid value"},
    ConfigKey{"max", Type::kDouble, "", "largest valid value"},
    ConfigKey{"maxAge", Type::kDuration, "", "readings older than now - maxAge are stale"}.above(0),
    ConfigKey{"maxFuture", Type::kDuration, "",
              "readings later than now + maxFuture are from the future"},
    ConfigKey{"onInvalid", Type::kString, "reject",
              "reject (dead-letter) | flag (lower quality, keep going)"}
        .oneOf("reject|flag"),
};
// Read before the table (it picks the table), so listed for docs but not required by it.
constexpr ConfigKey kTypeKey{"type", Type::kString, "",
                             "deadband | median | ema | rateLimit | downsample"};
constexpr std::array kDeadbandKeys = {
    kTypeKey,
    ConfigKey{"delta", Type::kDouble, "", "smallest change that passes", true}.atLeast(0)};
constexpr std::array kMedianKeys = {
    kTypeKey,
    ConfigKey{"window", Type::kInt, "5", "readings in the window"}.within(3, kMaxMedianWindow),
    ConfigKey{"k", Type::kDouble, "3", "spike threshold in robust standard deviations"}.above(0)};
constexpr std::array kEmaKeys = {
    kTypeKey,
    ConfigKey{"alpha", Type::kDouble, "", "weight of the newest reading", true}.within(0, 1).above(
        0)};
constexpr std::array kRateLimitKeys = {
    kTypeKey, ConfigKey{"minInterval", Type::kDuration, "",
                        "readings closer than this to the last passed one are dropped", true}
                  .above(0)};
constexpr std::array kDownsampleKeys = {
    kTypeKey, ConfigKey{"interval", Type::kDuration, "", "aggregation interval", true}.above(0),
    ConfigKey{"aggregate", Type::kString, "mean", "what a window's readings become"}.oneOf(
        "mean|min|max|last")};

constexpr std::array<std::string_view, 2> kRouteIgnored = {"validate", "filters"};
constexpr std::array<std::string_view, 1> kFilterIgnored = {"type"};

tl::unexpected<Error> invalid(std::string message, std::string where) {
  return fail(Errc::kInvalidArgument, std::move(message), std::move(where));
}

// Where `key` of `block` is, falling back to the block.
std::string whereKey(std::string_view file, const YAML::Node& block, std::string_view key) {
  const YAML::Node value = block[std::string(key)];
  return yamlWhere(file, value ? value : block);
}

Result<ValidationSpec> parseValidate(const YAML::Node& block, std::string_view file) {
  const ConfigValues values =
      SIE_TRY(readConfig(block, kValidateKeys, file, {}, "spec.routes[].validate"));
  ValidationSpec spec;
  if (values.has("min")) spec.min = values.number("min");
  if (values.has("max")) spec.max = values.number("max");
  if (spec.min > spec.max) {
    return invalid(fmt::format("'min' must be <= 'max' (got {} > {})", spec.min, spec.max),
                   values.where());
  }
  if (values.has("maxAge")) spec.max_age_ns = values.duration("maxAge").count();
  if (values.has("maxFuture")) spec.max_future_ns = values.duration("maxFuture").count();
  if (values.str("onInvalid") == "flag") spec.on_invalid = OnInvalid::kFlag;
  return spec;
}

Result<FilterSpec> parseFilterParams(const YAML::Node& block, std::string_view file,
                                     FilterSpec spec) {
  constexpr std::string_view kPath = "spec.routes[].filters[]";
  switch (spec.type) {
    case FilterSpec::Type::kDeadband: {
      const ConfigValues v = SIE_TRY(readConfig(block, kDeadbandKeys, file, kFilterIgnored, kPath));
      spec.delta = v.number("delta");
      break;
    }
    case FilterSpec::Type::kMedian: {
      const ConfigValues v = SIE_TRY(readConfig(block, kMedianKeys, file, kFilterIgnored, kPath));
      spec.window = static_cast<std::size_t>(v.integer("window"));
      spec.k = v.number("k");
      break;
    }
    case FilterSpec::Type::kEma: {
      const ConfigValues v = SIE_TRY(readConfig(block, kEmaKeys, file, kFilterIgnored, kPath));
      spec.alpha = v.number("alpha");
      break;
    }
    case FilterSpec::Type::kRateLimit: {
      const ConfigValues v =
          SIE_TRY(readConfig(block, kRateLimitKeys, file, kFilterIgnored, kPath));
      spec.interval_ns = v.duration("minInterval").count();
      break;
    }
    case FilterSpec::Type::kDownsample: {
      const ConfigValues v =
          SIE_TRY(readConfig(block, kDownsampleKeys, file, kFilterIgnored, kPath));
      spec.interval_ns = v.duration("interval").count();
      const std::string aggregate = v.str("aggregate");
      constexpr std::array<std::pair<std::string_view, FilterSpec::Aggregate>, 4> kAggregates = {{
          {"mean", FilterSpec::Aggregate::kMean},
          {"min", FilterSpec::Aggregate::kMin},
          {"max", FilterSpec::Aggregate::kMax},
          {"last", FilterSpec::Aggregate::kLast},
      }};
      const auto* known = std::find_if(kAggregates.begin(), kAggregates.end(),
                                       [&](const auto& entry) { return entry.first == aggregate; });
      spec.aggregate = known->second;  // the table allows these only
      break;
    }
  }
  return spec;
}

Result<FilterSpec> parseFilter(const YAML::Node& block, std::string_view file) {
  const std::string where = yamlWhere(file, block);
  if (!block.IsMap()) return invalid("a filter must be a map with a 'type'", where);
  const YAML::Node type_node = block["type"];
  if (!type_node || !type_node.IsScalar()) {
    return invalid("filter has no 'type' (deadband, median, ema, rateLimit, downsample)", where);
  }
  const auto type = type_node.as<std::string>();
  for (auto t : {FilterSpec::Type::kDeadband, FilterSpec::Type::kMedian, FilterSpec::Type::kEma,
                 FilterSpec::Type::kRateLimit, FilterSpec::Type::kDownsample}) {
    if (filterTypeName(t) == type) return parseFilterParams(block, file, FilterSpec{.type = t});
  }
  return invalid(fmt::format("unknown filter type '{}' (known: deadband, median, ema, rateLimit, "
                             "downsample)",
                             type),
                 yamlWhere(file, type_node));
}

Result<RouteSpec> parseRoute(const YAML::Node& block, std::string_view file) {
  const ConfigValues values =
      SIE_TRY(readConfig(block, kRouteKeys, file, kRouteIgnored, "spec.routes[]"));
  auto pattern = TopicPattern::parse(values.str("match"));
  if (!pattern) return invalid(pattern.error().message, whereKey(file, block, "match"));
  RouteSpec route{std::move(*pattern), {}, {}, values.where()};
  if (const YAML::Node validate = block["validate"]; validate && !validate.IsNull()) {
    route.validate = SIE_TRY(parseValidate(validate, file));
  }
  if (const YAML::Node filters = block["filters"]; filters && !filters.IsNull()) {
    if (!filters.IsSequence()) return invalid("'filters' must be a list", yamlWhere(file, filters));
    for (const YAML::Node& filter : filters) {
      route.filters.push_back(SIE_TRY(parseFilter(filter, file)));
    }
  }
  return route;
}

}  // namespace

Result<GatewayConfig> parseGatewayConfig(const YAML::Node& gateway_block,
                                         const YAML::Node& routes_block, std::string_view file) {
  GatewayConfig config;
  if (gateway_block && !gateway_block.IsNull()) {
    const ConfigValues values =
        SIE_TRY(readConfig(gateway_block, kGatewayKeys, file, {}, "spec.gateway"));
    config.max_payload_bytes = static_cast<std::size_t>(values.integer("maxPayloadBytes"));
    config.reject_unmatched = values.str("unmatched") == "reject";
  }
  if (routes_block && !routes_block.IsNull()) {
    if (!routes_block.IsSequence()) {
      return invalid("'routes' must be a list of routes", yamlWhere(file, routes_block));
    }
    for (const YAML::Node& route : routes_block) {
      config.routes.push_back(SIE_TRY(parseRoute(route, file)));
    }
  }
  return config;
}

std::vector<ConfigSection> gatewaySections() {
  return {{"spec.gateway", kGatewayKeys},
          {"spec.routes[]", kRouteKeys},
          {"spec.routes[].validate", kValidateKeys},
          {"spec.routes[].filters[] (type: deadband)", kDeadbandKeys},
          {"spec.routes[].filters[] (type: median)", kMedianKeys},
          {"spec.routes[].filters[] (type: ema)", kEmaKeys},
          {"spec.routes[].filters[] (type: rateLimit)", kRateLimitKeys},
          {"spec.routes[].filters[] (type: downsample)", kDownsampleKeys}};
}

std::string describeGatewayConfig() {
  return fmt::format(
      "gateway:\n{}routes[]:\n{}routes[].validate:\n{}filter deadband:\n{}filter median:\n{}"
      "filter ema:\n{}filter rateLimit:\n{}filter downsample:\n{}",
      describeConfig(kGatewayKeys), describeConfig(kRouteKeys), describeConfig(kValidateKeys),
      describeConfig(kDeadbandKeys), describeConfig(kMedianKeys), describeConfig(kEmaKeys),
      describeConfig(kRateLimitKeys), describeConfig(kDownsampleKeys));
}

}  // namespace sie::gateway
