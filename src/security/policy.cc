#include "security/policy.h"

#include <algorithm>

#include <fmt/format.h>

namespace sie::security {
namespace {

constexpr std::string_view kRolePrefix = "role:";
constexpr std::string_view kTokenPrefix = "token:";
constexpr std::string_view kSpiffePrefix = "spiffe://";

}  // namespace

Result<SubjectPattern> SubjectPattern::parse(std::string_view text) {
  SubjectPattern p;
  if (text == "*") return p;
  if (text.starts_with(kRolePrefix)) {
    const auto role = parseRole(text.substr(kRolePrefix.size()));
    if (!role) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("subject '{}' names no role (roles: {})", text, roleNames()));
    }
    p.kind_ = Kind::kRole;
    p.role_ = *role;
    return p;
  }
  const bool token = text.starts_with(kTokenPrefix) && text.size() > kTokenPrefix.size();
  const bool spiffe = text.starts_with(kSpiffePrefix) && text.size() > kSpiffePrefix.size();
  if (!token && !spiffe) {
    return fail(Errc::kInvalidArgument,
                fmt::format("subject '{}' is not one a policy knows: write a SPIFFE ID pattern "
                            "(spiffe://plant-a/client/*), a token identity (token:alice), a role "
                            "(role:operator) or '*'",
                            text));
  }
  auto name = NamePattern::parse(text);
  if (!name) {
    return fail(Errc::kInvalidArgument, fmt::format("subject: {}", name.error().message));
  }
  p.kind_ = Kind::kName;
  p.name_ = std::move(*name);
  return p;
}

bool SubjectPattern::matches(const Subject& subject) const {
  switch (kind_) {
    case Kind::kAny:
      return true;
    case Kind::kRole:
      return subject.role == role_;
    case Kind::kName:
      return name_.matches(subject.id);
  }
  return false;
}

bool Rule::appliesTo(const Subject& subject) const {
  return std::any_of(subjects.begin(), subjects.end(),
                     [&](const SubjectPattern& p) { return p.matches(subject); });
}

bool Rule::lists(http::ResourceKind kind) const {
  switch (kind) {
    case http::ResourceKind::kFunction:
      return !functions.empty();
    case http::ResourceKind::kSensor:
      return !sensors.empty();
    case http::ResourceKind::kNone:
      break;
  }
  return false;
}

bool Rule::matches(http::ResourceKind kind, std::string_view name) const {
  switch (kind) {
    case http::ResourceKind::kFunction:
      return std::any_of(functions.begin(), functions.end(),
                         [&](const NamePattern& p) { return p.matches(name); });
    case http::ResourceKind::kSensor:
      return std::any_of(sensors.begin(), sensors.end(),
                         [&](const TopicPattern& p) { return p.matches(name); });
    case http::ResourceKind::kNone:
      break;
  }
  return false;
}

std::string Rule::resourceText(http::ResourceKind kind) const {
  std::string out;
  const auto add = [&out](std::string_view text) {
    if (!out.empty()) out += ", ";
    out += text;
  };
  if (kind == http::ResourceKind::kFunction) {
    for (const NamePattern& p : functions) add(p.text());
  } else if (kind == http::ResourceKind::kSensor) {
    for (const TopicPattern& p : sensors) add(p.text());
  }
  return out;
}

Policy::Policy(std::vector<Rule> rules, std::string source)
    : rules_(std::move(rules)), source_(std::move(source)) {
  for (std::uint32_t i = 0; i < rules_.size(); ++i) {
    for (std::size_t a = 0; a < kActionCount; ++a) {
      if ((rules_[i].actions & (1U << a)) == 0) continue;
      (rules_[i].deny ? denies_ : allows_)[a].push_back(i);
    }
  }
}

Decision Policy::decide(const Subject& subject, Action action, const Resource& resource) const {
  const auto a = static_cast<std::size_t>(action);
  const bool named_in_body = resource.kind != http::ResourceKind::kNone && resource.name.empty();
  Decision decision;
  for (const std::uint32_t i : denies_[a]) {
    const Rule& rule = rules_[i];
    if (!rule.appliesTo(subject)) continue;
    if (!rule.listsResources()) {
      decision.denied_by = &rule;
      return decision;
    }
    if (named_in_body) {
      if (rule.lists(resource.kind)) decision.bound.deny.push_back(&rule);
    } else if (rule.matches(resource.kind, resource.name)) {
      decision.denied_by = &rule;
      return decision;
    }
  }
  decision.bound.any = false;
  for (const std::uint32_t i : allows_[a]) {
    const Rule& rule = rules_[i];
    if (!rule.appliesTo(subject)) continue;
    if (!rule.listsResources()) {
      decision.allowed = true;
      decision.bound.any = true;
      decision.bound.allow.clear();
      break;
    }
    if (named_in_body) {
      if (rule.lists(resource.kind)) decision.bound.allow.push_back(&rule);
    } else if (rule.matches(resource.kind, resource.name)) {
      decision.allowed = true;
      break;
    }
  }
  if (named_in_body && !decision.bound.allow.empty()) decision.allowed = true;
  if (!decision.allowed || !named_in_body) decision.bound = {};
  return decision;
}

}  // namespace sie::security
