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

TEST(AccessTest, RolesAllowWhatTheirNamesSay) {
  EXPECT_TRUE(allows(Role::kViewer, Action::kRead));
  EXPECT_FALSE(allows(Role::kViewer, Action::kIngest));
  EXPECT_FALSE(allows(Role::kViewer, Action::kInvoke));
  EXPECT_TRUE(allows(Role::kDevice, Action::kIngest));
  EXPECT_FALSE(allows(Role::kDevice, Action::kRead));
  EXPECT_TRUE(allows(Role::kOperator, Action::kInvoke));
  EXPECT_TRUE(allows(Role::kOperator, Action::kRollout));
  EXPECT_FALSE(allows(Role::kOperator, Action::kDeploy));
  EXPECT_TRUE(allows(Role::kDeployer, Action::kDeploy));
  EXPECT_TRUE(allows(Role::kDeployer, Action::kArtifacts));
  EXPECT_FALSE(allows(Role::kDeployer, Action::kKeys));  // a trusted key voids signatures
  EXPECT_FALSE(allows(Role::kDeployer, Action::kAdmin));
  for (int a = 0; a <= static_cast<int>(Action::kAdmin); ++a) {
    EXPECT_TRUE(allows(Role::kAdmin, static_cast<Action>(a)));
  }
  EXPECT_EQ(parseRole("deployer"), Role::kDeployer);
  EXPECT_EQ(parseRole("root"), std::nullopt);
  EXPECT_EQ(roleName(Role::kOperator), "operator");
}

}  // namespace
}  // namespace sie::security
