#include "security/access.h"

#include <array>

namespace sie::security {
namespace {

constexpr std::array<std::string_view, kActionCount> kActionNames = {
    "read",  "ingest",  "invoke", "deploy",    "delete",
    "scale", "rollout", "keys",   "artifacts", "admin"};
constexpr std::array<std::string_view, 5> kRoleNames = {"viewer", "device", "operator", "deployer",
                                                        "admin"};

// "/api/v1/functions/NAME/rest" -> "rest" ("" for "/api/v1/functions/NAME"); nullopt when
// `path` is not under /api/v1/functions/NAME.
std::optional<std::string_view> functionSubpath(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/v1/functions/";
  if (!path.starts_with(kPrefix)) return std::nullopt;
  path.remove_prefix(kPrefix.size());
  const auto slash = path.find('/');
  if (slash == 0) return std::nullopt;
  return slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
}

bool under(std::string_view path, std::string_view root) {
  return path == root || (path.starts_with(root) && path[root.size()] == '/');
}

// The segment after `prefix` (which ends in '/'), "" when `path` is not under it.
std::string_view segmentAfter(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return {};
  path.remove_prefix(prefix.size());
  return path.substr(0, path.find('/'));
}

}  // namespace

std::string_view actionName(Action action) {
  return kActionNames[static_cast<std::size_t>(action)];
}
std::string_view roleName(Role role) { return kRoleNames[static_cast<std::size_t>(role)]; }
std::string_view roleNames() { return "viewer, device, operator, deployer, admin"; }
std::string_view actionNames() {
  return "read, ingest, invoke, deploy, delete, scale, rollout, keys, artifacts, admin";
}

std::optional<Action> parseAction(std::string_view name) {
  for (std::size_t i = 0; i < kActionNames.size(); ++i) {
    if (kActionNames[i] == name) return static_cast<Action>(i);
  }
  return std::nullopt;
}

std::optional<Role> parseRole(std::string_view name) {
  for (std::size_t i = 0; i < kRoleNames.size(); ++i) {
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  }
  return std::nullopt;
}

std::optional<Action> actionFor(std::string_view method, std::string_view path) {
  if (path == "/healthz" || path == "/readyz") return std::nullopt;
  if (under(path, "/api/v1/tokens")) return Action::kAdmin;
  const bool get = method == "GET" || method == "HEAD";
  if (get) return Action::kRead;
  if (path == "/api/v1/events") return method == "POST" ? Action::kIngest : Action::kAdmin;
  if (under(path, "/api/v1/keys")) return Action::kKeys;
  if (under(path, "/api/v1/artifacts")) return Action::kArtifacts;
  if (path == "/api/v1/functions" || path == "/system/functions") {
    if (method == "POST" || method == "PUT") return Action::kDeploy;
    if (method == "DELETE" && path == "/system/functions") return Action::kDelete;
    return Action::kAdmin;
  }
  if (const auto rest = functionSubpath(path)) {
    if (rest->empty()) {
      if (method == "PUT") return Action::kDeploy;
      if (method == "DELETE") return Action::kDelete;
      return Action::kAdmin;
    }
    if (*rest == "invoke" && method == "POST") return Action::kInvoke;
    if (*rest == "scale" && method == "POST") return Action::kScale;
    if (under(*rest, "rollout") && method == "POST") return Action::kRollout;
    return Action::kAdmin;
  }
  if (method == "POST" &&
      (path.starts_with("/function/") || path.starts_with("/async-function/"))) {
    return Action::kInvoke;
  }
  if (method == "POST" && path.starts_with("/system/scale-function/")) return Action::kScale;
  return Action::kAdmin;
}

std::string routePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) {
      out += '/';
      out += path.substr(start, slash - start);
    }
    start = slash + 1;
  }
  return out.empty() ? "/" : out;
}

Resource resourceFor(Action action, std::string_view path) {
  using http::ResourceKind;
  if (action == Action::kIngest) return {ResourceKind::kSensor, {}};
  for (std::string_view prefix : {"/api/v1/functions/", "/function/", "/async-function/",
                                  "/system/function/", "/system/scale-function/"}) {
    if (const auto name = segmentAfter(path, prefix); !name.empty()) {
      return {ResourceKind::kFunction, name};
    }
  }
  const bool named_in_body =
      (action == Action::kDeploy && (path == "/api/v1/functions" || path == "/system/functions")) ||
      (action == Action::kDelete && path == "/system/functions");
  if (named_in_body) return {ResourceKind::kFunction, {}};
  return {};
}

}  // namespace sie::security
