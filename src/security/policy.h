// The site's authorization policy: rules that allow (or deny) subjects actions on resources.
// Deny by default: a request no rule allows is refused; a deny rule that applies wins over every
// allow rule. Without a policy file the node runs the built-in roles as such rules
// (policy_file.h); the file format and its checks are there too.
//
// A rule applies to a request when one of its subjects names the caller, one of its actions is
// the request's, and — when it lists resources — one of them matches the request's resource. A
// rule that lists resources never applies to a request without one (GET /api/v1/status).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/topic_pattern.h"
#include "security/access.h"
#include "security/name_pattern.h"
#include "sie/result.h"

namespace sie::security {

// Who is asking.
struct Subject {
  std::string_view id;  // a certificate's SPIFFE ID, or "token:<identity>"
  Role role = Role::kViewer;
};

// One entry of a rule's subjects: "*" (any caller), "role:NAME", "token:GLOB" or a SPIFFE ID
// pattern "spiffe://GLOB" (name_pattern.h).
class SubjectPattern {
 public:
  static Result<SubjectPattern> parse(std::string_view text);
  [[nodiscard]] bool matches(const Subject& subject) const;

 private:
  enum class Kind : std::uint8_t { kAny, kRole, kName };
  Kind kind_ = Kind::kAny;
  Role role_ = Role::kViewer;
  NamePattern name_;
};

struct Rule {
  bool deny = false;
  std::uint32_t actions = 0;  // bit i: Action i
  std::vector<SubjectPattern> subjects;
  std::vector<NamePattern> functions;  // "function:GLOB"
  std::vector<TopicPattern> sensors;   // "sensor:TOPIC-PATTERN" (MQTT wildcards)
  std::string where;                   // "policy.yaml:12", for messages and the audit

  [[nodiscard]] bool appliesTo(const Subject& subject) const;
  [[nodiscard]] bool listsResources() const { return !functions.empty() || !sensors.empty(); }
  // Whether the rule lists resources of `kind`.
  [[nodiscard]] bool lists(http::ResourceKind kind) const;
  [[nodiscard]] bool matches(http::ResourceKind kind, std::string_view name) const;
  // Its resources of `kind`, for messages: "pump-*, valve-7".
  [[nodiscard]] std::string resourceText(http::ResourceKind kind) const;
};

// What the body may name, when the decision was made before the body was read: one of the
// `allow` rules' resources (anything when `any`), none of the `deny` rules'.
struct Bound {
  bool any = true;
  std::vector<const Rule*> allow;
  std::vector<const Rule*> deny;
  [[nodiscard]] bool limits() const { return !any || !deny.empty(); }
};

struct Decision {
  bool allowed = false;
  // The deny rule that refused; nullptr when the refusal is the default (no rule allowed).
  const Rule* denied_by = nullptr;
  // Allowed, and the resource is named in the body: what it may be.
  Bound bound;
};

class Policy {
 public:
  // `source`: the file the rules came from, or "built-in".
  Policy(std::vector<Rule> rules, std::string source);

  // The decision for `subject` doing `action` on `resource`. Rules it points to live as long as
  // the policy.
  [[nodiscard]] Decision decide(const Subject& subject, Action action,
                                const Resource& resource) const;

  [[nodiscard]] std::size_t size() const { return rules_.size(); }
  [[nodiscard]] const std::string& source() const { return source_; }

 private:
  std::vector<Rule> rules_;
  std::string source_;
  // Per action, the rules that name it: deny rules first (deny wins), then allow rules.
  std::array<std::vector<std::uint32_t>, kActionCount> denies_;
  std::array<std::vector<std::uint32_t>, kActionCount> allows_;
};

}  // namespace sie::security
