// Who may do what: the actions a call to the node can take, the built-in roles that allow them,
// and which action each HTTP route is. Deny by default: a route not listed here is "admin".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

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

enum class Role : std::uint8_t {
  kViewer,    // read
  kDevice,    // ingest
  kOperator,  // read, ingest, invoke, scale, rollout
  kDeployer,  // the operator's, and deploy, delete, artifacts
  kAdmin,     // everything
};

std::string_view actionName(Action action);
std::string_view roleName(Role role);
// nullopt for a name that is not a role.
std::optional<Role> parseRole(std::string_view name);
// "viewer, device, operator, deployer, admin", for messages.
std::string_view roleNames();

[[nodiscard]] bool allows(Role role, Action action);

// The action a request is; nullopt for the health probes (/healthz, /readyz), which answer
// anyone so that supervisors need no credentials.
std::optional<Action> actionFor(std::string_view method, std::string_view path);

}  // namespace sie::security
