#include "security/caller_scope.h"

#include <fmt/format.h>

namespace sie::security {
namespace {

std::string_view kindName(http::ResourceKind kind) {
  return kind == http::ResourceKind::kSensor ? "sensor" : "function";
}

// "send readings for" (an ingest), "deploy" (a deploy), "delete" (a delete).
std::string_view doing(http::ResourceKind kind, Action action) {
  return kind == http::ResourceKind::kSensor ? "send readings for" : actionName(action);
}

}  // namespace

CallerScope::CallerScope(std::string caller, Action action, Limits limits, OnRefusal on_refusal)
    : caller_(std::move(caller)),
      action_(action),
      limits_(std::move(limits)),
      on_refusal_(std::move(on_refusal)) {}

std::optional<std::string> CallerScope::refusal(http::ResourceKind kind,
                                                std::string_view name) const {
  const Rule* rule = nullptr;
  auto why = reason(kind, name, rule);
  if (why && on_refusal_) on_refusal_(fmt::format("{}:{}", kindName(kind), name), *why, rule);
  return why;
}

std::optional<std::string> CallerScope::reason(http::ResourceKind kind, std::string_view name,
                                               const Rule*& rule) const {
  const std::string_view for_ = kind == http::ResourceKind::kSensor ? "for " : "";
  if (kind == http::ResourceKind::kSensor && limits_.credential_sensors &&
      !limits_.credential_sensors->matches(name)) {
    return fmt::format("'{}' may send readings for {} only, not for '{}'", caller_,
                       limits_.credential_sensors->text(), name);
  }
  if (kind != limits_.bound_kind) return std::nullopt;
  const Bound& bound = limits_.bound;
  for (const Rule* deny : bound.deny) {
    if (deny->matches(kind, name)) {
      rule = deny;
      return fmt::format("'{}' may not {} '{}': the site's policy denies it", caller_,
                         doing(kind, action_), name);
    }
  }
  if (bound.any) return std::nullopt;
  std::string allowed;
  for (const Rule* allow : bound.allow) {
    if (allow->matches(kind, name)) return std::nullopt;
    allowed += (allowed.empty() ? "" : ", ") + allow->resourceText(kind);
  }
  return fmt::format("'{}' may {} {} only, not {}'{}' (the site's policy)", caller_,
                     doing(kind, action_), allowed, for_, name);
}

}  // namespace sie::security
