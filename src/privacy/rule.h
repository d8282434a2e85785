// One privacy rule: what happens to one field before it leaves the node.
//   drop          the field is removed
//   pseudonymize  the value becomes its keyed HMAC-SHA-256 pseudonym (pseudonymizer.h)
//   generalize    a number is rounded (digits, step) or replaced by its range (buckets); a
//                 timestamp in ns is cut down to a multiple of a period (1m, 1h, 24h)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "privacy/field_path.h"
#include "sie/config.h"
#include "sie/result.h"

namespace sie::privacy {

enum class RuleAction { kDrop, kPseudonymize, kGeneralize };

struct Rule {
  FieldPath field;
  RuleAction action = RuleAction::kDrop;
  std::size_t length = 16;      // pseudonymize: hex digits kept (16 = 64 bits)
  std::optional<int> digits;    // generalize: decimal digits kept (negative: tens, hundreds)
  std::optional<double> step;   // generalize: to the nearest multiple
  std::vector<double> buckets;  // generalize: ascending bounds; the value becomes "[lo,hi)"
  std::int64_t period_ns = 0;   // generalize: a timestamp down to a multiple of this
};

// The table of one rule, for checks and generated docs.
std::span<const ConfigKey> ruleKeys();

// Reads one rule ({field: tags.badge, action: pseudonymize}); errors name file:line.
Result<Rule> parseRule(const YAML::Node& block, const std::string& file);

// The generalized value; nullopt when it is not a number (nor a string holding one), so the
// caller withholds it rather than send it as it was.
std::optional<nlohmann::json> generalize(const Rule& rule, const nlohmann::json& value);

}  // namespace sie::privacy
