#include "gateway/gateway_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::gateway {
namespace {

using ::testing::HasSubstr;

Result<GatewayConfig> parse(const std::string& yaml) {
  const YAML::Node root = YAML::Load(yaml);
  return parseGatewayConfig(root["gateway"], root["routes"], "site.yaml");
}

std::string errorOf(const std::string& yaml) {
  auto config = parse(yaml);
  return config ? "no error" : config.error().str();
}

TEST(GatewayConfigTest, DefaultsWhenAbsent) {
  auto config = parse("other: 1\n");
  ASSERT_TRUE(config) << config.error().str();
  EXPECT_EQ(config->max_payload_bytes, 1048576U);
  EXPECT_FALSE(config->reject_unmatched);
  EXPECT_TRUE(config->routes.empty());
  EXPECT_TRUE(parse("gateway:\nroutes:\n"));
}

TEST(GatewayConfigTest, FullExample) {
  auto config = parse(R"(
gateway:
  maxPayloadBytes: 4096
  unmatched: reject
routes:
  - match: "grid/+/voltage"
    validate: {min: 180, max: 280, maxAge: 60s, maxFuture: 5s, onInvalid: reject}
    filters:
      - {type: median, window: 5, k: 3}
      - {type: deadband, delta: 0.2}
  - match: "rotating/#"
    validate: {maxAge: 10s, onInvalid: flag}
    filters:
      - {type: ema, alpha: 0.3}
      - {type: rateLimit, minInterval: 250ms}
      - {type: downsample, interval: 10s, aggregate: max}
  - match: "plain/#"
)");
  ASSERT_TRUE(config) << config.error().str();
  EXPECT_EQ(config->max_payload_bytes, 4096U);
  EXPECT_TRUE(config->reject_unmatched);
  ASSERT_EQ(config->routes.size(), 3U);
  const RouteSpec& grid = config->routes[0];
  EXPECT_EQ(grid.match.text(), "grid/+/voltage");
  EXPECT_EQ(grid.where, "site.yaml:6");
  EXPECT_EQ(grid.validate.min, 180);
  EXPECT_EQ(grid.validate.max, 280);
  EXPECT_EQ(grid.validate.max_age_ns, 60'000'000'000);
  EXPECT_EQ(grid.validate.max_future_ns, 5'000'000'000);
  EXPECT_EQ(grid.validate.on_invalid, OnInvalid::kReject);
  ASSERT_EQ(grid.filters.size(), 2U);
  EXPECT_EQ(grid.filters[0].type, FilterSpec::Type::kMedian);
  EXPECT_EQ(grid.filters[0].window, 5U);
  EXPECT_EQ(grid.filters[0].k, 3);
  EXPECT_EQ(grid.filters[1].delta, 0.2);
  const RouteSpec& rotating = config->routes[1];
  EXPECT_EQ(rotating.validate.on_invalid, OnInvalid::kFlag);
  EXPECT_FALSE(rotating.validate.max_future_ns);
  EXPECT_EQ(rotating.filters[0].alpha, 0.3);
  EXPECT_EQ(rotating.filters[1].interval_ns, 250'000'000);
  EXPECT_EQ(rotating.filters[2].aggregate, FilterSpec::Aggregate::kMax);
  EXPECT_TRUE(config->routes[2].filters.empty());
}

TEST(GatewayConfigTest, UnknownKeysNameFileAndLine) {
  EXPECT_EQ(errorOf("gateway:\n  maxPayload: 5\n"),
            "site.yaml:2: unknown key 'spec.gateway.maxPayload' (known keys: maxPayloadBytes, "
            "unmatched)");
  EXPECT_EQ(
      errorOf("routes:\n  - match: a\n    filter: []\n"),
      "site.yaml:3: unknown key 'spec.routes[].filter' (known keys: match, validate, filters)");
  EXPECT_THAT(errorOf("routes:\n  - match: a\n    validate:\n      minimum: 1\n"),
              HasSubstr("site.yaml:4: unknown key 'spec.routes[].validate.minimum'"));
  EXPECT_THAT(
      errorOf("routes:\n  - match: a\n    filters:\n      - {type: ema, alpha: 1, beta: 2}\n"),
      HasSubstr(
          "site.yaml:4: unknown key 'spec.routes[].filters[].beta' (known keys: type, alpha)"));
}

TEST(GatewayConfigTest, ValueErrors) {
  EXPECT_EQ(errorOf("gateway:\n  unmatched: drop\n"),
            "site.yaml:2: 'spec.gateway.unmatched' must be accept or reject (got 'drop')");
  EXPECT_EQ(errorOf("gateway:\n  maxPayloadBytes: 0\n"),
            "site.yaml:2: 'spec.gateway.maxPayloadBytes' must be 1 to 67108864 (got 0)");
  EXPECT_THAT(
      errorOf("gateway:\n  maxPayloadBytes: lots\n"),
      HasSubstr("site.yaml:2: 'spec.gateway.maxPayloadBytes' must be an integer (got 'lots')"));
  EXPECT_EQ(errorOf("routes:\n  - validate: {min: 1}\n"),
            "site.yaml:2: missing required key 'spec.routes[].match' (sensor id pattern (MQTT "
            "wildcards + and "
            "#); the first matching route wins)");
  EXPECT_THAT(errorOf("routes:\n  - match: \"a+/b\"\n"), HasSubstr("site.yaml:2: topic pattern"));
  EXPECT_EQ(errorOf("routes:\n  - match: a\n    validate: {min: 5, max: 1}\n"),
            "site.yaml:3: 'min' must be <= 'max' (got 5 > 1)");
  EXPECT_EQ(errorOf("routes:\n  - match: a\n    validate: {max: nan}\n"),
            "site.yaml:3: 'spec.routes[].validate.max' must be a finite number (got 'nan')");
  EXPECT_EQ(errorOf("routes:\n  - match: a\n    validate:\n      onInvalid: drop\n"),
            "site.yaml:4: 'spec.routes[].validate.onInvalid' must be reject or flag (got 'drop')");
  EXPECT_THAT(
      errorOf("routes:\n  - match: a\n    validate: {maxAge: 10 parsecs}\n"),
      HasSubstr("site.yaml:3: 'spec.routes[].validate.maxAge': '10 parsecs' has no known unit"));
  EXPECT_EQ(errorOf("routes:\n  - match: a\n    validate: {maxAge: 0}\n"),
            "site.yaml:3: 'spec.routes[].validate.maxAge' must be more than 0 (got 0)");
  EXPECT_EQ(errorOf("routes:\n  match: a\n"), "site.yaml:2: 'routes' must be a list of routes");
}

TEST(GatewayConfigTest, FilterErrors) {
  const auto filter = [](const std::string& body) {
    return errorOf("routes:\n  - match: a\n    filters:\n      - " + body + "\n");
  };
  EXPECT_EQ(filter("{type: kalman}"),
            "site.yaml:4: unknown filter type 'kalman' (known: deadband, median, ema, rateLimit, "
            "downsample)");
  EXPECT_EQ(filter("{delta: 1}"),
            "site.yaml:4: filter has no 'type' (deadband, median, ema, rateLimit, downsample)");
  EXPECT_EQ(filter("deadband"), "site.yaml:4: a filter must be a map with a 'type'");
  EXPECT_THAT(filter("{type: deadband}"),
              HasSubstr("missing required key 'spec.routes[].filters[].delta'"));
  EXPECT_EQ(filter("{type: deadband, delta: -1}"),
            "site.yaml:4: 'spec.routes[].filters[].delta' must be 0 or more (got -1)");
  EXPECT_EQ(filter("{type: median, window: 2}"),
            "site.yaml:4: 'spec.routes[].filters[].window' must be 3 to 1001 (got 2)");
  EXPECT_EQ(filter("{type: median, k: 0}"),
            "site.yaml:4: 'spec.routes[].filters[].k' must be more than 0 (got 0)");
  EXPECT_EQ(filter("{type: ema, alpha: 1.5}"),
            "site.yaml:4: 'spec.routes[].filters[].alpha' must be more than 0 and at most 1 (got "
            "1.5)");
  EXPECT_EQ(filter("{type: rateLimit, minInterval: 0s}"),
            "site.yaml:4: 'spec.routes[].filters[].minInterval' must be more than 0 (got 0s)");
  EXPECT_EQ(filter("{type: downsample, interval: 1s, aggregate: median}"),
            "site.yaml:4: 'spec.routes[].filters[].aggregate' must be mean, min, max or last (got "
            "'median')");
  EXPECT_EQ(errorOf("routes:\n  - match: a\n    filters: {type: ema}\n"),
            "site.yaml:3: 'filters' must be a list");
}

TEST(GatewayConfigTest, DescribesEveryKey) {
  const std::string text = describeGatewayConfig();
  for (const char* key : {"maxPayloadBytes", "unmatched", "match", "onInvalid", "maxFuture",
                          "delta", "window", "alpha", "minInterval", "aggregate"}) {
    EXPECT_THAT(text, HasSubstr(key));
  }
}

}  // namespace
}  // namespace sie::gateway
