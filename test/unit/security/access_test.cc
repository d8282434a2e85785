// Roles and route actions: what each built-in role may do, and which action each route is.
#include "security/access.h"

#include <gtest/gtest.h>

namespace sie::security {
namespace {

TEST(AccessTest, EveryRouteIsAnActionAndUnknownOnesAreAdmin) {
  struct Case {
    const char* method;
    const char* path;
    std::optional<Action> action;
  };
  const Case cases[] = {
      {"GET", "/healthz", std::nullopt},
      {"GET", "/readyz", std::nullopt},
      {"GET", "/metrics", Action::kRead},
      {"HEAD", "/api/v1/status", Action::kRead},
      {"GET", "/api/v1/functions/pump/logs", Action::kRead},
      {"GET", "/api/v1/tokens", Action::kAdmin},
      {"POST", "/api/v1/tokens", Action::kAdmin},
      {"DELETE", "/api/v1/tokens/0123456789abcdef", Action::kAdmin},
      {"POST", "/api/v1/events", Action::kIngest},
      {"DELETE", "/api/v1/events", Action::kAdmin},
      {"POST", "/api/v1/functions", Action::kDeploy},
      {"PUT", "/api/v1/functions/pump", Action::kDeploy},
      {"POST", "/system/functions", Action::kDeploy},
      {"PUT", "/system/functions", Action::kDeploy},
      {"DELETE", "/api/v1/functions/pump", Action::kDelete},
      {"DELETE", "/system/functions", Action::kDelete},
      {"POST", "/api/v1/functions/pump/invoke", Action::kInvoke},
      {"POST", "/function/pump", Action::kInvoke},
      {"POST", "/async-function/pump", Action::kInvoke},
      {"POST", "/api/v1/functions/pump/scale", Action::kScale},
      {"POST", "/system/scale-function/pump", Action::kScale},
      {"POST", "/api/v1/functions/pump/rollout", Action::kRollout},
      {"POST", "/api/v1/functions/pump/rollout/promote", Action::kRollout},
      {"POST", "/api/v1/keys", Action::kKeys},
      {"DELETE", "/api/v1/keys/0123", Action::kKeys},
      {"PUT", "/api/v1/artifacts/model.onnx", Action::kArtifacts},
      {"DELETE", "/api/v1/artifacts/abc", Action::kArtifacts},
      {"POST", "/api/v1/functions/pump/invokes", Action::kAdmin},
      {"POST", "/api/v1/functions//invoke", Action::kAdmin},
      {"POST", "/api/v1/keysmith", Action::kAdmin},
      {"PATCH", "/api/v1/functions/pump", Action::kAdmin},
      {"POST", "/anything/else", Action::kAdmin},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(actionFor(c.method, c.path), c.action) << c.method << " " << c.path;
  }
}

TEST(AccessTest, RolesAndActionsHaveNames) {
  EXPECT_EQ(parseRole("deployer"), Role::kDeployer);
  EXPECT_EQ(parseRole("root"), std::nullopt);
  EXPECT_EQ(roleName(Role::kOperator), "operator");
  EXPECT_EQ(parseAction("rollout"), Action::kRollout);
  EXPECT_EQ(parseAction("*"), std::nullopt);
  for (std::size_t a = 0; a < kActionCount; ++a) {
    EXPECT_EQ(parseAction(actionName(static_cast<Action>(a))), static_cast<Action>(a));
  }
}

// The guard reads paths as the router does, so "//" cannot hide a route or its function.
TEST(AccessTest, TheResourceOfARouteIsTheFunctionItNames) {
  EXPECT_EQ(routePath("/api//v1/functions//pump/"), "/api/v1/functions/pump");
  EXPECT_EQ(routePath("//"), "/");
  EXPECT_EQ(routePath("/healthz"), "/healthz");
  using http::ResourceKind;
  struct Case {
    const char* method;
    const char* path;
    ResourceKind kind;
    const char* name;
  };
  const Case cases[] = {
      {"PUT", "/api/v1/functions/pump-1", ResourceKind::kFunction, "pump-1"},
      {"POST", "/api/v1/functions/pump-1/rollout/promote", ResourceKind::kFunction, "pump-1"},
      {"GET", "/api/v1/functions/pump-1/logs", ResourceKind::kFunction, "pump-1"},
      {"POST", "/function/pump-1", ResourceKind::kFunction, "pump-1"},
      {"POST", "/async-function/pump-1", ResourceKind::kFunction, "pump-1"},
      {"GET", "/system/function/pump-1", ResourceKind::kFunction, "pump-1"},
      {"POST", "/system/scale-function/pump-1", ResourceKind::kFunction, "pump-1"},
      {"POST", "/api/v1/functions", ResourceKind::kFunction, ""},
      {"PUT", "/system/functions", ResourceKind::kFunction, ""},
      {"DELETE", "/system/functions", ResourceKind::kFunction, ""},
      {"POST", "/api/v1/events", ResourceKind::kSensor, ""},
      {"GET", "/api/v1/functions", ResourceKind::kNone, ""},
      {"GET", "/system/functions", ResourceKind::kNone, ""},
      {"GET", "/api/v1/status", ResourceKind::kNone, ""},
      {"POST", "/api/v1/keys", ResourceKind::kNone, ""},
  };
  for (const Case& c : cases) {
    const std::string path = routePath(c.path);
    const Resource r = resourceFor(*actionFor(c.method, path), path);
    EXPECT_EQ(r.kind, c.kind) << c.method << " " << c.path;
    EXPECT_EQ(r.name, c.name) << c.method << " " << c.path;
  }
}

}  // namespace
}  // namespace sie::security
