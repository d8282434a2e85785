// The policy file (spec.security.policy), a YAML document checked key by key:
//
//   apiVersion: sie/v1
//   kind: Policy
//   metadata: {name: plant-a}                     # optional
//   rules:
//     - subjects: ["spiffe://plant-a/client/*", "token:ci-bot", "role:operator"]
//       actions: [deploy, delete]                 # or "*"
//       resources: ["function:pump-*"]            # optional: without it, every resource
//       effect: allow                             # or deny; default allow
//       description: CI deploys the pump functions
//
// Every error names file:line and what to write instead. Limits: 1 MiB, 1000 rules, 256 entries
// per list, patterns of 512 characters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "security/policy.h"
#include "sie/result.h"

namespace sie::security {

inline constexpr std::uintmax_t kMaxPolicyBytes = 1 << 20;
inline constexpr std::size_t kMaxPolicyRules = 1000;
inline constexpr std::size_t kMaxPolicyListEntries = 256;

// Parses a policy; `file` names it in errors and in Rule::where.
Result<Policy> parsePolicy(std::string_view text, const std::string& file);
Result<Policy> loadPolicy(const std::string& path);

// The built-in roles as a policy file: what a site without spec.security.policy runs.
std::string_view builtInPolicyText();
std::shared_ptr<const Policy> builtInPolicy();

}  // namespace sie::security
