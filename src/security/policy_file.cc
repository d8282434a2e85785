#include "security/policy_file.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/config_table.h"
#include "core/file_text.h"

namespace sie::security {
namespace {

using Type = ConfigKey::Type;

constexpr ConfigKey kPolicyKeys[] = {
    {"apiVersion", Type::kString, "", "must be sie/v1", true},
    {"kind", Type::kString, "", "must be Policy", true},
};
constexpr std::string_view kPolicyBlocks[] = {"metadata", "rules"};
constexpr ConfigKey kMetadataKeys[] = {
    {"name", Type::kString, "", "the policy's name"},
    {"description", Type::kString, "", "free text"},
};
constexpr ConfigKey kRuleKeys[] = {
    {"subjects", Type::kStringList, "",
     "who: SPIFFE ID patterns (spiffe://plant-a/client/*), token identities (token:alice), roles "
     "(role:operator) or *",
     true},
    {"actions", Type::kStringList, "",
     "what: read, ingest, invoke, deploy, delete, scale, rollout, keys, artifacts, admin, or *",
     true},
    {"resources", Type::kStringList, "",
     "on what: function:GLOB (function:pump-*), sensor:TOPIC-PATTERN "
     "(sensor:rotating/+/vibration); "
     "without it, the rule applies to every resource"},
    ConfigKey{"effect", Type::kString, "allow", "a deny rule that applies wins"}.oneOf(
        "allow|deny"),
    {"description", Type::kString, "", "free text, for people reading the policy"},
};

constexpr std::string_view kFunctionPrefix = "function:";
constexpr std::string_view kSensorPrefix = "sensor:";

// The entries of list `key` of `rule`, each with its place, after readConfig checked its type.
template <typename Each>
Status forEachEntry(const YAML::Node& rule, const char* key, const std::string& file, Each&& each) {
  const YAML::Node list = rule[key];
  if (!list) return ok();
  const std::string where = yamlWhere(file, list);
  if (list.size() == 0) {
    return fail(Errc::kInvalidArgument,
                std::string_view(key) == "resources"
                    ? "'resources' is empty: list at least one, or leave the key out for a rule "
                      "on every resource"
                    : fmt::format("'{}' is empty: a rule needs at least one", key),
                where);
  }
  if (list.size() > kMaxPolicyListEntries) {
    return fail(
        Errc::kInvalidArgument,
        fmt::format("'{}' has {} entries; at most {}", key, list.size(), kMaxPolicyListEntries),
        where);
  }
  for (const auto& entry : list) {
    const std::string at = yamlWhere(file, entry);
    if (auto done = each(entry.as<std::string>()); !done) {
      return fail(Errc::kInvalidArgument, done.error().message, at);
    }
  }
  return ok();
}

Result<Rule> parseRule(const YAML::Node& node, const std::string& file) {
  auto values = SIE_TRY(readConfig(node, kRuleKeys, file));
  Rule rule;
  rule.where = values.where();
  rule.deny = values.str("effect") == "deny";
  SIE_CHECK(forEachEntry(node, "subjects", file, [&](const std::string& text) -> Status {
    rule.subjects.push_back(SIE_TRY(SubjectPattern::parse(text)));
    return ok();
  }));
  SIE_CHECK(forEachEntry(node, "actions", file, [&](const std::string& text) -> Status {
    if (text == "*") {
      rule.actions = (1U << kActionCount) - 1;
      return ok();
    }
    const auto action = parseAction(text);
    if (!action) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("unknown action '{}' (actions: {}, or *)", text, actionNames()));
    }
    rule.actions |= 1U << static_cast<unsigned>(*action);
    return ok();
  }));
  SIE_CHECK(forEachEntry(node, "resources", file, [&](const std::string& text) -> Status {
    if (text.starts_with(kFunctionPrefix)) {
      const std::string_view glob = std::string_view(text).substr(kFunctionPrefix.size());
      const bool valid = !glob.empty() && std::all_of(glob.begin(), glob.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '*';
      });
      if (!valid) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("resource '{}': a function pattern holds lowercase letters, "
                                "digits, '-' and '*' (function:pump-*)",
                                text));
      }
      rule.functions.push_back(SIE_TRY(NamePattern::parse(glob)));
      return ok();
    }
    if (text.starts_with(kSensorPrefix)) {
      auto pattern = TopicPattern::parse(std::string_view(text).substr(kSensorPrefix.size()));
      if (!pattern) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("resource '{}': {}", text, pattern.error().message));
      }
      rule.sensors.push_back(std::move(*pattern));
      return ok();
    }
    return fail(Errc::kInvalidArgument,
                fmt::format("resource '{}' is neither function:GLOB (function:pump-*) nor "
                            "sensor:TOPIC-PATTERN (sensor:rotating/+/vibration)",
                            text));
  }));
  return rule;
}

Result<Policy> parseDocument(const YAML::Node& doc, const std::string& file) {
  if (!doc.IsMap()) {
    return fail(Errc::kInvalidArgument,
                "not a policy: it starts with 'apiVersion: sie/v1', 'kind: Policy' and 'rules:'",
                file);
  }
  auto top = SIE_TRY(readConfig(doc, kPolicyKeys, file, kPolicyBlocks));
  if (top.str("apiVersion") != "sie/v1" || top.str("kind") != "Policy") {
    return top.invalid(fmt::format("expected apiVersion sie/v1 and kind Policy (got {} {})",
                                   top.str("apiVersion"), top.str("kind")));
  }
  if (const YAML::Node metadata = doc["metadata"]) {
    SIE_CHECK(readConfig(metadata, kMetadataKeys, file));
  }
  const YAML::Node rules = doc["rules"];
  if (!rules) {
    return top.invalid(
        "missing required key 'rules' (a list; an empty list denies every call but the health "
        "probes)");
  }
  if (!rules.IsSequence()) {
    return fail(Errc::kInvalidArgument, "'rules' must be a list of rules", yamlWhere(file, rules));
  }
  if (rules.size() > kMaxPolicyRules) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{} rules; a policy holds at most {}", rules.size(), kMaxPolicyRules),
                yamlWhere(file, rules));
  }
  std::vector<Rule> parsed;
  parsed.reserve(rules.size());
  for (const auto& rule : rules) parsed.push_back(SIE_TRY(parseRule(rule, file)));
  return Policy(std::move(parsed), file);
}

constexpr std::string_view kBuiltIn =
    R"(# The built-in roles. A site without spec.security.policy runs exactly these rules; a policy
# file replaces them, so start from this one to keep them.
apiVersion: sie/v1
kind: Policy
metadata: {name: built-in}
rules:
  - subjects: [role:viewer]
    actions: [read]
  # A device's credential bounds the sensors it may send for (a device certificate: <name>/#,
  # a token: its --sensors), whatever the policy says.
  - subjects: [role:device]
    actions: [ingest]
  - subjects: [role:operator]
    actions: [read, ingest, invoke, scale, rollout]
  - subjects: [role:deployer]
    actions: [read, ingest, invoke, scale, rollout, deploy, delete, artifacts]
  - subjects: [role:admin]
    actions: ["*"]
)";

}  // namespace

Result<Policy> parsePolicy(std::string_view text, const std::string& file) {
  if (text.size() > kMaxPolicyBytes) {
    return fail(Errc::kInvalidArgument,
                fmt::format("the policy is larger than {} bytes", kMaxPolicyBytes), file);
  }
  try {
    return parseDocument(YAML::Load(std::string(text)), file);
  } catch (const YAML::Exception& e) {
    const std::string where = e.mark.is_null() ? file : fmt::format("{}:{}", file, e.mark.line + 1);
    return fail(Errc::kParse, "invalid YAML: " + e.msg, where);
  }
}

Result<Policy> loadPolicy(const std::string& path) {
  const std::string text = SIE_TRY(readFileText(path, kMaxPolicyBytes));
  return parsePolicy(text, path);
}

std::string_view builtInPolicyText() { return kBuiltIn; }

std::shared_ptr<const Policy> builtInPolicy() {
  static const std::shared_ptr<const Policy> policy = [] {
    auto parsed = parsePolicy(kBuiltIn, "built-in");
    if (!parsed) {
      // The text is part of the binary: a failure is a bug, caught by every test.
      std::fprintf(stderr, "the built-in policy does not parse: %s\n",
                   parsed.error().str().c_str());
      std::abort();
    }
    return std::make_shared<const Policy>(std::move(*parsed));
  }();
  return policy;
}

}  // namespace sie::security
