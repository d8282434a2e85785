#include "privacy/rule.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "core/config_table.h"

namespace sie::privacy {
namespace {

using Type = ConfigKey::Type;

constexpr ConfigKey kRuleKeys[] = {
    {"field", Type::kString, "",
     "the field: sensor, ts_ns, value, values, score, anomaly, label, detail, function, version, "
     "or tags.NAME (a tag the reading carried)",
     true},
    {"action", Type::kString, "", "drop | pseudonymize | generalize", true},
    {"length", Type::kInt, "",
     "pseudonymize: hex digits of the HMAC-SHA-256 kept, 8..64 (default 16)"},
    {"digits", Type::kInt, "", "generalize: round to this many decimal digits (-9..9)"},
    {"step", Type::kDouble, "", "generalize: round to the nearest multiple of this"},
    {"buckets", Type::kStringList, "",
     "generalize: ascending bounds; the value becomes its range, e.g. [10,50)"},
    {"period", Type::kDuration, "",
     "generalize a timestamp (ts_ns): down to a multiple of this, e.g. 1m, 1h, 24h"},
};

std::optional<double> numberOf(const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return std::nullopt;
  const auto& text = value.get_ref<const std::string&>();
  double out = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return out;
}

std::string bucketOf(const std::vector<double>& bounds, double v) {
  if (v < bounds.front()) return fmt::format("<{}", bounds.front());
  for (std::size_t i = 1; i < bounds.size(); ++i) {
    if (v < bounds[i]) return fmt::format("[{},{})", bounds[i - 1], bounds[i]);
  }
  return fmt::format(">={}", bounds.back());
}

std::optional<nlohmann::json> generalizeOne(const Rule& rule, const nlohmann::json& value) {
  if (rule.period_ns > 0) {
    std::int64_t ns = 0;
    if (value.is_number_integer()) {
      ns = value.get<std::int64_t>();
    } else if (auto n = numberOf(value)) {
      ns = static_cast<std::int64_t>(*n);
    } else {
      return std::nullopt;
    }
    std::int64_t floor = ns - ns % rule.period_ns;
    if (ns < 0 && ns % rule.period_ns != 0) floor -= rule.period_ns;
    if (value.is_string()) return nlohmann::json(std::to_string(floor));
    return nlohmann::json(floor);
  }
  const auto number = numberOf(value);
  if (!number || !std::isfinite(*number)) return std::nullopt;
  if (!rule.buckets.empty()) return nlohmann::json(bucketOf(rule.buckets, *number));
  double out = *number;
  if (rule.step) {
    out = std::round(out / *rule.step) * *rule.step;
  } else if (rule.digits) {
    const double scale = std::pow(10.0, *rule.digits);
    out = std::round(out * scale) / scale;
  }
  if (value.is_string()) return nlohmann::json(fmt::format("{}", out));
  return nlohmann::json(out);
}

}  // namespace

std::span<const ConfigKey> ruleKeys() { return kRuleKeys; }

Result<Rule> parseRule(const YAML::Node& block, const std::string& file) {
  if (!block.IsMap()) {
    return fail(Errc::kInvalidArgument,
                "a privacy rule is a map such as {field: tags.badge, action: pseudonymize}",
                yamlWhere(file, block));
  }
  auto v = SIE_TRY(readConfig(block, kRuleKeys, file));
  Rule rule;
  auto field = parseFieldPath(v.str("field"));
  if (!field) return v.invalid("privacy rule: " + field.error().message);
  rule.field = std::move(*field);
  const std::string action = v.str("action");
  const auto here = [&](const std::string& what) {
    return v.invalid(fmt::format("privacy rule for {}: {}", rule.field.text, what));
  };
  const int generalizers = static_cast<int>(v.has("digits")) + static_cast<int>(v.has("step")) +
                           static_cast<int>(v.has("buckets")) + static_cast<int>(v.has("period"));
  if (action == "drop") {
    rule.action = RuleAction::kDrop;
  } else if (action == "pseudonymize") {
    rule.action = RuleAction::kPseudonymize;
    if (v.has("length")) {
      const std::int64_t length = v.integer("length");
      if (length < 8 || length > 64) {
        return here(fmt::format("length must be 8..64 hex digits (got {})", length));
      }
      rule.length = static_cast<std::size_t>(length);
    }
  } else if (action == "generalize") {
    rule.action = RuleAction::kGeneralize;
    if (generalizers != 1) {
      return here(
          "generalize takes exactly one of digits (round to N digits), step (round to a "
          "multiple), buckets (ranges) or period (a timestamp down to 1m, 1h, ...)");
    }
  } else {
    return here(fmt::format(
        "unknown action '{}': use drop, pseudonymize (keyed HMAC) or generalize", action));
  }
  if (rule.action != RuleAction::kGeneralize && generalizers > 0) {
    return here("digits, step, buckets and period belong to action: generalize");
  }
  if (rule.action != RuleAction::kPseudonymize && v.has("length")) {
    return here("length belongs to action: pseudonymize");
  }
  if (v.has("digits")) {
    const std::int64_t digits = v.integer("digits");
    if (digits < -9 || digits > 9)
      return here(fmt::format("digits must be -9..9 (got {})", digits));
    rule.digits = static_cast<int>(digits);
  }
  if (v.has("step")) {
    rule.step = v.number("step");
    if (!(*rule.step > 0) || !std::isfinite(*rule.step)) {
      return here(fmt::format("step must be a number above 0 (got {})", *rule.step));
    }
  }
  if (v.has("buckets")) {
    for (const auto& text : v.list("buckets")) {
      auto bound = numberOf(nlohmann::json(text));
      if (!bound || !std::isfinite(*bound)) {
        return here(fmt::format("buckets must be numbers (got '{}')", text));
      }
      if (!rule.buckets.empty() && *bound <= rule.buckets.back()) {
        return here("buckets must be in ascending order, e.g. [0, 10, 50]");
      }
      rule.buckets.push_back(*bound);
    }
    if (rule.buckets.empty()) return here("buckets needs at least one bound, e.g. [0, 10, 50]");
  }
  if (v.has("period")) {
    rule.period_ns = v.duration("period").count();
    if (rule.period_ns <= 0) return here("period must be above 0, e.g. 1m, 1h or 24h");
  }
  return rule;
}

std::optional<nlohmann::json> generalize(const Rule& rule, const nlohmann::json& value) {
  if (!value.is_array()) return generalizeOne(rule, value);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : value) {
    auto one = generalizeOne(rule, item);
    if (!one) return std::nullopt;
    out.push_back(std::move(*one));
  }
  return out;
}

}  // namespace sie::privacy
