// The site's privacy settings: spec.privacy (the key, the personal fields, the rules for API
// reads by callers that are not admins) and each sink's spec.sinks[].privacy rules. Everything is
// checked when the site is loaded: unknown fields and actions, a missing or short key, and a path
// out that would carry a personal field without a rule are refused with file:line.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "privacy/rule_set.h"
#include "sie/config.h"
#include "sie/result.h"

namespace sie::privacy {

struct SinkPrivacy {
  std::string sink;
  YAML::Node rules;   // the block's privacy list; undefined when it has none
  std::string where;  // the sink's block ("site.yaml:14"), for messages
};

struct SitePrivacy {
  // For API reads (decisions, readings, audit, dead letters) by callers that are not admins.
  std::shared_ptr<const RuleSet> api = std::make_shared<RuleSet>();
  std::map<std::string, std::shared_ptr<const RuleSet>, std::less<>> sinks;  // by sink name

  // The sink's rules; an empty set for a sink the site did not name.
  [[nodiscard]] std::shared_ptr<const RuleSet> forSink(std::string_view sink) const;
};

// The table of spec.privacy.
std::span<const ConfigKey> privacyKeys();

// Reads spec.privacy (may be undefined) and the sinks' rules; keyFile is relative to `file`.
// `personal` adds fields the sources marked personal to spec.privacy.personal.
Result<SitePrivacy> parseSitePrivacy(const YAML::Node& privacy,
                                     const std::vector<SinkPrivacy>& sinks, const std::string& file,
                                     const std::vector<std::string>& personal = {});

}  // namespace sie::privacy
