// Who may do what: the actions a call to the node can take, the built-in roles, which action each
// HTTP route is and what it acts on. Deny by default: a route not listed here is "admin". What
// each role may do is the built-in policy's (policy_file.h), unless the site has a policy file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/resource_scope.h"

namespace sie::security {

enum class Action : std::uint8_t {
  kRead,       // GET anything but tokens: status, functions, decisions, audit, metrics, events
  kIngest,     // POST /api/v1/events
  kInvoke,     // call a function (invoke, OpenFaaS /function, /async-function)
  kDeploy,     // create or update a function
  kDelete,     // delete a function
  kScale,      // change a function's scaling
  kRollout,    // change, promote, abort or switch a rollout
  kKeys,       // trust or drop a signing key (voids requireSignatures if misused)
  kArtifacts,  // upload or remove models and executables
  kAdmin,      // tokens, and every route not named above
};

inline constexpr std::size_t kActionCount = 10;

enum class Role : std::uint8_t {
  kViewer,    // read
  kDevice,    // ingest
  kOperator,  // read, ingest, invoke, scale, rollout
  kDeployer,  // the operator's, and deploy, delete, artifacts
  kAdmin,     // everything
};

std::string_view actionName(Action action);
// nullopt for a name that is not an action.
std::optional<Action> parseAction(std::string_view name);
// "read, ingest, ..., admin", for messages.
std::string_view actionNames();
std::string_view roleName(Role role);
// nullopt for a name that is not a role.
std::optional<Role> parseRole(std::string_view name);
// "viewer, device, operator, deployer, admin", for messages.
std::string_view roleNames();

// The action a request is; nullopt for the health probes (/healthz, /readyz), which answer
// anyone so that supervisors need no credentials.
std::optional<Action> actionFor(std::string_view method, std::string_view path);

// The path as the router reads it (http/routes.cc): empty segments dropped, so that "//" or a
// trailing '/' cannot make a route look like another to the guard.
std::string routePath(std::string_view path);

// What a request acts on.
struct Resource {
  http::ResourceKind kind = http::ResourceKind::kNone;
  // The function's name; "" when the body names it (a deploy by POST, an ingest's sensors).
  std::string_view name;
};

// The resource of a request whose route path (routePath) is `path`: the function its route
// names (/api/v1/functions/NAME..., /function/NAME, /async-function/NAME, /system/function/NAME,
// /system/scale-function/NAME), the function a deploy or delete names in its body, the sensors
// of an ingest, or none.
Resource resourceFor(Action action, std::string_view path);

}  // namespace sie::security
