#include "core/config_table.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sie {
namespace {

constexpr ConfigKey kTable[] = {
    {"seed", ConfigKey::Type::kInt, "42", "random seed"},
    {"speed", ConfigKey::Type::kDouble, "1.0", "time factor"},
    {"interval", ConfigKey::Type::kDuration, "1s", "poll interval"},
    {"enabled", ConfigKey::Type::kBool, "true", "on or off"},
    {"domains", ConfigKey::Type::kStringList, "", "domains"},
    {"host", ConfigKey::Type::kString, "", "host name", true},
};
constexpr std::string_view kIgnored[] = {"name", "type"};

Result<ConfigValues> read(const std::string& yaml) {
  return readConfig(YAML::Load(yaml), kTable, "site.yaml", kIgnored);
}

TEST(ConfigTableTest, ReadsValuesAndDefaults) {
  auto v =
      read("name: a\ntype: sim\nhost: plc1\nseed: 7\ninterval: 250ms\ndomains: [grid, hvac]\n");
  ASSERT_TRUE(v) << v.error().str();
  EXPECT_EQ(v->integer("seed"), 7);
  EXPECT_DOUBLE_EQ(v->number("speed"), 1.0);
  EXPECT_EQ(v->duration("interval"), std::chrono::milliseconds(250));
  EXPECT_TRUE(v->flag("enabled"));
  EXPECT_EQ(v->list("domains"), (std::vector<std::string>{"grid", "hvac"}));
  EXPECT_EQ(v->str("host"), "plc1");
}

TEST(ConfigTableTest, UnknownKeyNamesFileLineAndKnownKeys) {
  auto v = read("host: a\nsped: 2\n");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().where, "site.yaml:2");
  EXPECT_NE(v.error().message.find("unknown key 'sped'"), std::string::npos);
  EXPECT_NE(v.error().message.find("speed"), std::string::npos);
}

TEST(ConfigTableTest, WrongTypesAndMissingRequired) {
  EXPECT_FALSE(read("host: a\nseed: many\n"));
  EXPECT_FALSE(read("host: a\nspeed: fast\n"));
  EXPECT_FALSE(read("host: a\ninterval: 10 parsecs\n"));
  EXPECT_FALSE(read("host: a\nenabled: perhaps\n"));
  EXPECT_FALSE(read("host: a\ndomains: grid\n"));
  auto missing = read("seed: 1\n");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("missing required key 'host'"), std::string::npos);
  EXPECT_FALSE(readConfig(YAML::Load("[1, 2]"), kTable, "x.yaml"));
  auto twice = read("host: a\nseed: 1\nseed: 2\n");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message, "key 'seed' is set twice");
  EXPECT_EQ(twice.error().where, "site.yaml:3");
}

constexpr ConfigKey kPointKeys[] = {
    {"address", ConfigKey::Type::kInt, "", "register address", true},
    {"scale", ConfigKey::Type::kDouble, "1", "multiplier"},
};
std::span<const ConfigKey> pointKeys() { return kPointKeys; }
const ConfigKey kNested[] = {
    {"points", ConfigKey::Type::kTableList, "", "poll list", true, &pointKeys},
};

TEST(ConfigTableTest, TableListsAreCheckedEntryByEntry) {
  auto v = readConfig(YAML::Load("points:\n  - {address: 3}\n  - {address: 4, scale: 0.5}\n"),
                      kNested, "site.yaml");
  ASSERT_TRUE(v) << v.error().str();
  const auto& points = v->tables("points");
  ASSERT_EQ(points.size(), 2U);
  EXPECT_EQ(points[0].integer("address"), 3);
  EXPECT_DOUBLE_EQ(points[0].number("scale"), 1.0);  // default inside an entry
  EXPECT_DOUBLE_EQ(points[1].number("scale"), 0.5);
  EXPECT_TRUE(v->tables("absent").empty());

  auto bad =
      readConfig(YAML::Load("points:\n  - {address: 3}\n  - {scale: 2}\n"), kNested, "site.yaml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().where, "site.yaml:3");  // the entry that lacks the key
  EXPECT_NE(bad.error().message.find("missing required key 'points[].address'"), std::string::npos);
  EXPECT_FALSE(readConfig(YAML::Load("points: 3\n"), kNested, "site.yaml"));
  EXPECT_NE(describeConfig(kNested).find("    address (integer, required)"), std::string::npos);
}

TEST(ConfigTableTest, ParsesDurations) {
  EXPECT_EQ(*parseDuration("500us"), std::chrono::microseconds(500));
  EXPECT_EQ(*parseDuration("1.5m"), std::chrono::seconds(90));
  EXPECT_EQ(*parseDuration("0"), std::chrono::nanoseconds(0));
  EXPECT_FALSE(parseDuration("-1s"));
  EXPECT_FALSE(parseDuration("10"));
  EXPECT_FALSE(parseDuration("s"));
  EXPECT_EQ(*parseDuration("876000h"), kMaxDuration);
  // Beyond int64 nanoseconds: refused, not converted (undefined behaviour; a fuzzer found it).
  auto huge = parseDuration("1e30h");
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message.find("longer than the 100 years"), std::string::npos);
  EXPECT_FALSE(parseDuration("876001h"));
}

}  // namespace
}  // namespace sie

namespace sie {
namespace {

// Bounds live in the table: every plugin's limits are checked, and described, the same way.
constexpr ConfigKey kBounded[] = {
    ConfigKey{"maxQueued", ConfigKey::Type::kInt, "10", "queue"}.within(1, 10'000'000),
    ConfigKey{"ratio", ConfigKey::Type::kDouble, "0.5", "share"}.within(0, 1),
    ConfigKey{"retries", ConfigKey::Type::kInt, "0", "again"}.within(
        0, std::numeric_limits<double>::infinity()),
};

TEST(ConfigTableTest, BoundsAreCheckedAndNamed) {
  EXPECT_TRUE(readConfig(YAML::Load("maxQueued: 10000000\nratio: 1\nretries: 9"), kBounded, "s"));
  for (const auto& [yaml, why] : std::vector<std::pair<std::string, std::string>>{
           {"maxQueued: 0", "'maxQueued' must be 1 to 10000000 (got 0)"},
           {"maxQueued: 10000001", "'maxQueued' must be 1 to 10000000 (got 10000001)"},
           {"ratio: 1.5", "'ratio' must be 0 to 1 (got 1.5)"},
           {"retries: -1", "'retries' must be 0 or more (got -1)"}}) {
    auto v = readConfig(YAML::Load(yaml), kBounded, "site.yaml");
    ASSERT_FALSE(v) << yaml;
    EXPECT_EQ(v.error().message, why);
    EXPECT_EQ(v.error().where, "site.yaml:1");
  }
  EXPECT_NE(describeConfig(kBounded).find("maxQueued (integer, default 10, 1 to 10000000)"),
            std::string::npos)
      << describeConfig(kBounded);
}

constexpr ConfigKey kValidated[] = {
    ConfigKey{"mode", ConfigKey::Type::kString, "binary", "http mode"}.oneOf("binary|structured"),
    ConfigKey{"timeout", ConfigKey::Type::kDuration, "1s", "deadline"}.withinTime(
        std::chrono::milliseconds(1), std::chrono::minutes(1)),
    ConfigKey{"memory", ConfigKey::Type::kSize, "256Mi", "limit"}.atLeast(16 << 20).orZero(),
    ConfigKey{"alpha", ConfigKey::Type::kDouble, "0.5", "weight"}.within(0, 1).above(0),
    {"band", ConfigKey::Type::kNumberList, "", "low and high"},
    {"env", ConfigKey::Type::kStringMap, "", "variables"},
};

// Each limit is the table's: the reader refuses, naming the key (with its block's path), what it
// allows and what it got, at the key's line.
TEST(ConfigTableTest, ValidatorsCheckChoicesDurationsSizesAndLists) {
  auto v = readConfig(YAML::Load("mode: structured\ntimeout: 250ms\nmemory: 1Gi\nalpha: 1\n"
                                 "band: [0.3, 0.7]\nenv: {A: x, B: \"3\"}\n"),
                      kValidated, "site.yaml");
  ASSERT_TRUE(v) << v.error().str();
  EXPECT_EQ(v->str("mode"), "structured");
  EXPECT_EQ(v->bytes("memory"), 1ULL << 30);
  EXPECT_EQ(v->numbers("band"), (std::vector<double>{0.3, 0.7}));
  EXPECT_EQ(v->map("env"), (std::map<std::string, std::string>{{"A", "x"}, {"B", "3"}}));
  auto defaults = readConfig(YAML::Load("{}"), kValidated, "site.yaml");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->bytes("memory"), 256ULL << 20);
  EXPECT_TRUE(readConfig(YAML::Load("memory: 0"), kValidated, "s"));  // 0: none
  for (const auto& [yaml, why] : std::vector<std::pair<std::string, std::string>>{
           {"mode: soap", "'spec.sink.mode' must be binary or structured (got 'soap')"},
           {"timeout: 500us", "'spec.sink.timeout' must be 1ms to 1m (got 500us)"},
           {"timeout: 2m", "'spec.sink.timeout' must be 1ms to 1m (got 2m)"},
           {"memory: 1Mi", "'spec.sink.memory' must be 0 or 16Mi or more (got 1Mi)"},
           {"memory: lots",
            "'spec.sink.memory': 'lots' is not a size (use e.g. 65536, 512K, "
            "256Mi or 1Gi)"},
           {"memory: 99999999999Ti",
            "'spec.sink.memory': '99999999999Ti' is not a size (use "
            "e.g. 65536, 512K, 256Mi or 1Gi)"},
           {"alpha: 0", "'spec.sink.alpha' must be more than 0 and at most 1 (got 0)"},
           {"alpha: 1.5", "'spec.sink.alpha' must be more than 0 and at most 1 (got 1.5)"},
           {"alpha: inf", "'spec.sink.alpha' must be a finite number (got 'inf')"},
           {"band: [0.3, high]", "'spec.sink.band' must be a list of numbers (got 'high')"},
           {"env: [A]", "'spec.sink.env' must be a map of strings"},
           {"env: {A: [1]}", "'spec.sink.env.A' must be a string"},
           {"colour: red",
            "unknown key 'spec.sink.colour' (known keys: mode, timeout, memory, "
            "alpha, band, env)"}}) {
    auto bad = readConfig(YAML::Load(yaml), kValidated, "site.yaml", {}, "spec.sink");
    ASSERT_FALSE(bad) << yaml;
    EXPECT_EQ(bad.error().message, why);
    EXPECT_EQ(bad.error().where, "site.yaml:1");
  }
  const std::string docs = markdownConfig(kValidated);
  for (const char* row : {"| `mode` | string | `binary` | binary or structured | http mode |",
                          "| `timeout` | duration | `1s` | 1ms to 1m | deadline |",
                          "| `memory` | size | `256Mi` | 0 or 16Mi or more | limit |"}) {
    EXPECT_NE(docs.find(row), std::string::npos) << row << "\n" << docs;
  }
}

TEST(ConfigTableTest, ParsesSizes) {
  EXPECT_EQ(parseSize("65536"), 65536u);
  EXPECT_EQ(parseSize("512K"), 512'000u);
  EXPECT_EQ(parseSize("256Mi"), 256ULL << 20);
  EXPECT_EQ(parseSize("2Ti"), 2ULL << 40);
  for (const char* bad : {"", "Mi", "-1", "1.5Gi", "1 Gi", "1gi", "18446744073709551615Ki"}) {
    EXPECT_FALSE(parseSize(bad)) << bad;
  }
}

}  // namespace
}  // namespace sie
