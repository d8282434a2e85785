#include "privacy/site_privacy.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "core/config_table.h"

namespace sie::privacy {
namespace {

using Type = ConfigKey::Type;

constexpr ConfigKey kPrivacyKeys[] = {
    {"keyFile", Type::kString, "",
     "the secret key of the pseudonyms (HMAC-SHA-256): a file whose first line holds at least 32 "
     "bytes (openssl rand -hex 32), relative to this file; the same key gives the same "
     "pseudonyms across restarts"},
    {"personal", Type::kStringList, "",
     "fields that identify a person (e.g. tags.badge, tags.operator): every sink, and the API "
     "for callers that are not admins, must have a rule for each or the site is refused"},
};
constexpr std::string_view kPrivacyBlocks[] = {"api"};

// Reads a list of rules; `what` names its place for messages ("sink 'cloud'").
Result<std::vector<Rule>> parseRules(const YAML::Node& list, const std::string& file,
                                     const std::string& what) {
  std::vector<Rule> rules;
  if (!list.IsDefined() || list.IsNull()) return rules;
  if (!list.IsSequence()) {
    return fail(Errc::kInvalidArgument,
                fmt::format("the privacy rules of {} must be a list such as [{{field: "
                            "tags.badge, action: pseudonymize}}]",
                            what),
                yamlWhere(file, list));
  }
  std::set<std::string> seen;
  for (const auto& block : list) {
    auto rule = SIE_TRY(parseRule(block, file));
    if (!seen.insert(rule.field.text).second) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("{} has two privacy rules for {}: keep one", what, rule.field.text),
                  yamlWhere(file, block));
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

// A rule on sensor also re-keys event ids (event_filter.h), which takes the key.
bool needsKey(const std::vector<Rule>& rules) {
  for (const auto& rule : rules) {
    if (rule.action == RuleAction::kPseudonymize || rule.field.text == "sensor") return true;
  }
  return false;
}

}  // namespace

std::shared_ptr<const RuleSet> SitePrivacy::forSink(std::string_view sink) const {
  auto it = sinks.find(sink);
  return it == sinks.end() ? std::make_shared<RuleSet>() : it->second;
}

std::span<const ConfigKey> privacyKeys() { return kPrivacyKeys; }

Result<SitePrivacy> parseSitePrivacy(const YAML::Node& privacy,
                                     const std::vector<SinkPrivacy>& sinks, const std::string& file,
                                     const std::vector<std::string>& from_sources) {
  const YAML::Node settings =
      privacy.IsDefined() && !privacy.IsNull() ? privacy : YAML::Node(YAML::NodeType::Map);
  auto v = SIE_TRY(readConfig(settings, kPrivacyKeys, file, kPrivacyBlocks));
  std::vector<FieldPath> personal;
  for (const auto& text : v.list("personal")) {
    auto field = parseFieldPath(text);
    if (!field) return v.invalid("spec.privacy.personal: " + field.error().message);
    personal.push_back(std::move(*field));
  }
  for (const auto& text : from_sources) {
    const bool listed = std::any_of(personal.begin(), personal.end(),
                                    [&](const FieldPath& field) { return field.text == text; });
    if (!listed) personal.push_back(SIE_TRY(parseFieldPath(text)));
  }

  std::vector<std::pair<std::string, std::vector<Rule>>> all;
  for (const auto& sink : sinks) {
    all.emplace_back(fmt::format("sink '{}'", sink.sink),
                     SIE_TRY(parseRules(sink.rules, file, fmt::format("sink '{}'", sink.sink))));
  }
  const YAML::Node api = settings["api"];
  all.emplace_back("spec.privacy.api", SIE_TRY(parseRules(api, file, "spec.privacy.api")));

  std::shared_ptr<const Pseudonymizer> key;
  const bool needs_key =
      std::any_of(all.begin(), all.end(), [](const auto& entry) { return needsKey(entry.second); });
  if (v.has("keyFile")) {
    const std::string path =
        (std::filesystem::path(file).parent_path() / v.str("keyFile")).lexically_normal().string();
    key = std::make_shared<Pseudonymizer>(SIE_TRY(Pseudonymizer::load(path, v.where())));
  } else if (needs_key) {
    return v.invalid(
        "a privacy rule pseudonymizes (or covers sensor, whose event ids are re-keyed), and "
        "spec.privacy.keyFile names no key: make one with "
        "`openssl rand -hex 32 > privacy.key` (mode 0600) and set spec.privacy.keyFile: "
        "privacy.key");
  }

  SitePrivacy out;
  for (std::size_t i = 0; i < all.size(); ++i) {
    auto set = std::make_shared<RuleSet>(std::move(all[i].second), personal, key);
    if (auto field = set->uncovered()) {
      const bool is_api = i == sinks.size();
      const YAML::Node at = is_api ? api : sinks[i].rules;
      return fail(
          Errc::kInvalidArgument,
          fmt::format("{} would send the personal field {} (spec.privacy.personal or a "
                      "source's personal list) without a "
                      "privacy rule: add {{field: {}, action: pseudonymize}} (or drop) to {}",
                      all[i].first, *field, *field,
                      is_api ? "spec.privacy.api" : "the sink's privacy list"),
          at.IsDefined() ? yamlWhere(file, at)
          : is_api       ? v.where()
                         : sinks[i].where);
    }
    if (i == sinks.size()) {
      out.api = std::move(set);
    } else {
      out.sinks.emplace(sinks[i].sink, std::move(set));
    }
  }
  return out;
}

}  // namespace sie::privacy
