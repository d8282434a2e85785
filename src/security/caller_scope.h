// What a caller may do with the resources its request's body names, as the request guard decided
// before the body was read (http/resource_scope.h):
//   - the sensors its credential names (a device certificate's <name>/#, a token's --sensors)
//     bound every ingest, whatever the policy says;
//   - the policy's Bound (policy.h) narrows the sensors of an ingest and the function a deploy or
//     delete names in its body.
// A refusal is reported to `on_refusal` (the guard counts and audits it) before it is returned.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/topic_pattern.h"
#include "http/resource_scope.h"
#include "security/policy.h"

namespace sie::security {

class CallerScope final : public http::ResourceScope {
 public:
  struct Limits {
    std::optional<TopicPattern> credential_sensors;
    // The decision's bound on resources of `bound_kind`; `policy` keeps its rules alive.
    std::shared_ptr<const Policy> policy;
    Bound bound;
    http::ResourceKind bound_kind = http::ResourceKind::kNone;
  };
  // The refused resource ("sensor:grid/f2/voltage"), the reason given to the caller, and the deny
  // rule that refused it (nullptr for a refusal by default or by the credential).
  using OnRefusal =
      std::function<void(const std::string& resource, const std::string& reason, const Rule*)>;

  CallerScope(std::string caller, Action action, Limits limits, OnRefusal on_refusal);

  [[nodiscard]] std::optional<std::string> refusal(http::ResourceKind kind,
                                                   std::string_view name) const override;

 private:
  [[nodiscard]] std::optional<std::string> reason(http::ResourceKind kind, std::string_view name,
                                                  const Rule*& rule) const;

  std::string caller_;
  Action action_;
  Limits limits_;
  OnRefusal on_refusal_;
};

}  // namespace sie::security
