#include "privacy/rule_set.h"

#include <algorithm>

namespace sie::privacy {

RuleSet::RuleSet(std::vector<Rule> rules, std::vector<FieldPath> personal,
                 std::shared_ptr<const Pseudonymizer> key)
    : personal_(std::move(personal)), key_(std::move(key)) {
  for (auto& rule : rules) {
    std::string field = rule.field.text;
    rules_.emplace(std::move(field), std::move(rule));
  }
}

const Rule* RuleSet::ruleFor(std::string_view field) const {
  auto it = rules_.find(field);
  return it == rules_.end() ? nullptr : &it->second;
}

std::optional<std::string> RuleSet::uncovered() const {
  for (const auto& field : personal_) {
    if (!ruleFor(field.text)) return field.text;
  }
  return std::nullopt;
}

std::optional<nlohmann::json> RuleSet::transform(const std::string& field,
                                                 const nlohmann::json& value,
                                                 Applied& applied) const {
  const Rule* rule = ruleFor(field);
  if (!rule) {
    const bool personal = std::any_of(personal_.begin(), personal_.end(),
                                      [&](const FieldPath& p) { return p.text == field; });
    if (!personal) return value;
    applied.uncovered.push_back(field);
    return std::nullopt;
  }
  switch (rule->action) {
    case RuleAction::kDrop:
      return std::nullopt;
    case RuleAction::kPseudonymize: {
      if (!key_) {  // parseSitePrivacy refuses this; a set built without a key sends nothing
        applied.unreadable.push_back(field);
        return std::nullopt;
      }
      const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      return nlohmann::json(key_->pseudonym(text, rule->length));
    }
    case RuleAction::kGeneralize: {
      auto general = generalize(*rule, value);
      if (!general) applied.unreadable.push_back(field);
      return general;
    }
  }
  return std::nullopt;
}

void RuleSet::apply(nlohmann::json& doc, Applied& applied) const {
  if (empty() || !doc.is_object()) return;
  for (auto it = doc.begin(); it != doc.end();) {
    if (it.key() == "tags") {
      ++it;
      continue;
    }
    auto value = transform(it.key(), it.value(), applied);
    if (!value) {
      it = doc.erase(it);
      continue;
    }
    it.value() = std::move(*value);
    ++it;
  }
  auto tags = doc.find("tags");
  if (tags == doc.end() || !tags->is_object()) return;
  for (auto it = tags->begin(); it != tags->end();) {
    auto value = transform("tags." + it.key(), it.value(), applied);
    if (!value) {
      it = tags->erase(it);
      continue;
    }
    it.value() = std::move(*value);
    ++it;
  }
}

void RuleSet::apply(Tags& tags, Applied& applied) const {
  if (empty()) return;
  Tags kept;
  kept.reserve(tags.size());
  for (auto& [name, value] : tags) {
    if (auto text = applyText("tags." + name, value, applied)) {
      kept.emplace_back(std::move(name), std::move(*text));
    }
  }
  tags = std::move(kept);
}

std::optional<std::string> RuleSet::pseudonym(std::string_view value, std::size_t hex_chars) const {
  if (!key_) return std::nullopt;
  return key_->pseudonym(value, hex_chars);
}

std::optional<std::string> RuleSet::applyText(const std::string& field, const std::string& value,
                                              Applied& applied) const {
  auto out = transform(field, nlohmann::json(value), applied);
  if (!out) return std::nullopt;
  return out->is_string() ? out->get<std::string>() : out->dump();
}

}  // namespace sie::privacy
