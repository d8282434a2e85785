// RuleSet: the privacy rules of one path out of the node (a sink, or the API for callers that
// are not admins) together with the site's personal fields. A personal field no rule covers is
// never sent: the site file is refused at load time (uncovered()), and should one still turn up
// (a tag a source adds later) it is dropped and reported to the caller, which counts and logs it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "privacy/pseudonymizer.h"
#include "privacy/rule.h"
#include "sie/event.h"

namespace sie::privacy {

// What applying the rules removed that no rule asked for.
struct Applied {
  std::vector<std::string> uncovered;   // personal fields without a rule, dropped
  std::vector<std::string> unreadable;  // generalize found no number there, dropped
};

class RuleSet {
 public:
  RuleSet() = default;
  // `key` may be null when no rule pseudonymizes.
  RuleSet(std::vector<Rule> rules, std::vector<FieldPath> personal,
          std::shared_ptr<const Pseudonymizer> key);

  // No rules and no personal fields: events pass untouched.
  [[nodiscard]] bool empty() const { return rules_.empty() && personal_.empty(); }
  [[nodiscard]] const Rule* ruleFor(std::string_view field) const;
  // The first personal field no rule covers; nullopt when all are.
  [[nodiscard]] std::optional<std::string> uncovered() const;

  // Applies the rules to a JSON object in place: its top-level fields and its "tags" object.
  void apply(nlohmann::json& doc, Applied& applied) const;
  // Applies the tags.NAME rules to tags; dropped tags are removed.
  void apply(Tags& tags, Applied& applied) const;
  // The keyed pseudonym of `value` (hex_chars long); nullopt without a key.
  [[nodiscard]] std::optional<std::string> pseudonym(std::string_view value,
                                                     std::size_t hex_chars) const;
  // Applies the rule of `field` to one text value (the sensor id, a tag); nullopt: dropped.
  [[nodiscard]] std::optional<std::string> applyText(const std::string& field,
                                                     const std::string& value,
                                                     Applied& applied) const;

 private:
  // The new value of `field`; nullopt: drop it.
  std::optional<nlohmann::json> transform(const std::string& field, const nlohmann::json& value,
                                          Applied& applied) const;

  std::map<std::string, Rule, std::less<>> rules_;  // by field path
  std::vector<FieldPath> personal_;
  std::shared_ptr<const Pseudonymizer> key_;
};

}  // namespace sie::privacy
