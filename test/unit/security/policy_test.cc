// The site's policy: subjects, actions and resources; deny by default, deny wins; the built-in
// roles as rules; and a policy file's checks, each naming file:line.
#include "security/policy.h"

#include <algorithm>
#include <map>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "security/policy_file.h"

namespace sie::security {
namespace {

using http::ResourceKind;
using ::testing::HasSubstr;

constexpr std::string_view kHeader = "apiVersion: sie/v1\nkind: Policy\nrules:\n";

Policy parse(std::string_view rules) {
  auto policy = parsePolicy(std::string(kHeader) + std::string(rules), "policy.yaml");
  EXPECT_TRUE(policy) << policy.error().str();
  return policy ? std::move(*policy) : Policy({}, "none");
}

bool allowed(const Policy& policy, std::string_view subject, Role role, Action action,
             Resource resource = {}) {
  return policy.decide({subject, role}, action, resource).allowed;
}

Resource function(std::string_view name) { return {ResourceKind::kFunction, name}; }

TEST(PolicyTest, SubjectsAreSpiffeIdPatternsTokenIdentitiesRolesOrAnyone) {
  const Policy policy = parse(R"(
  - subjects: ["spiffe://plant-a/client/*"]
    actions: [read]
  - subjects: ["token:ci-bot", "spiffe://plant-a/device/**"]
    actions: [ingest]
  - subjects: [role:operator]
    actions: [invoke]
  - subjects: ["*"]
    actions: [scale]
)");
  EXPECT_TRUE(allowed(policy, "spiffe://plant-a/client/alice", Role::kViewer, Action::kRead));
  EXPECT_FALSE(allowed(policy, "spiffe://plant-b/client/alice", Role::kViewer, Action::kRead));
  EXPECT_FALSE(allowed(policy, "token:alice", Role::kViewer, Action::kRead));
  EXPECT_TRUE(allowed(policy, "token:ci-bot", Role::kViewer, Action::kIngest));
  EXPECT_FALSE(allowed(policy, "token:ci-bot2", Role::kViewer, Action::kIngest));
  EXPECT_TRUE(
      allowed(policy, "spiffe://plant-a/device/line-1/pump-7", Role::kDevice, Action::kIngest));
  EXPECT_TRUE(allowed(policy, "token:night-shift", Role::kOperator, Action::kInvoke));
  EXPECT_FALSE(allowed(policy, "token:night-shift", Role::kDeployer, Action::kInvoke));
  EXPECT_TRUE(allowed(policy, "token:anyone", Role::kViewer, Action::kScale));
  // A token's identity is not a SPIFFE ID, whatever it is called.
  EXPECT_FALSE(
      allowed(policy, "token:spiffe://plant-a/client/alice", Role::kViewer, Action::kRead));
}

TEST(PolicyTest, EverythingNoRuleAllowsIsDenied) {
  const Policy empty = parse("  []\n");
  for (std::size_t a = 0; a < kActionCount; ++a) {
    EXPECT_FALSE(allowed(empty, "token:root", Role::kAdmin, static_cast<Action>(a)));
  }
  const Policy reads = parse("  - {subjects: [role:viewer], actions: [read]}\n");
  EXPECT_TRUE(allowed(reads, "token:grafana", Role::kViewer, Action::kRead));
  EXPECT_FALSE(allowed(reads, "token:grafana", Role::kViewer, Action::kIngest));
  EXPECT_FALSE(allowed(reads, "token:root", Role::kAdmin, Action::kRead));
}

TEST(PolicyTest, ADenyRuleWinsWhereverItIs) {
  const Policy policy = parse(R"(
  - {subjects: [role:admin], actions: ["*"]}
  - {subjects: ["token:intern"], actions: [deploy, delete], resources: ["function:valve-*"],
     effect: deny}
  - {subjects: ["token:intern"], actions: ["*"]}
)");
  EXPECT_TRUE(allowed(policy, "token:intern", Role::kAdmin, Action::kDeploy, function("pump-1")));
  const Decision denied =
      policy.decide({"token:intern", Role::kAdmin}, Action::kDeploy, function("valve-1"));
  EXPECT_FALSE(denied.allowed);
  ASSERT_NE(denied.denied_by, nullptr);
  EXPECT_EQ(denied.denied_by->where, "policy.yaml:6");
  EXPECT_TRUE(allowed(policy, "token:intern", Role::kAdmin, Action::kInvoke, function("valve-1")));
  EXPECT_TRUE(allowed(policy, "token:boss", Role::kAdmin, Action::kDeploy, function("valve-1")));
  // A refusal by default names no rule.
  EXPECT_EQ(policy.decide({"token:x", Role::kViewer}, Action::kRead, {}).denied_by, nullptr);
}

TEST(PolicyTest, ResourcesLimitARuleAndARuleWithoutThemAppliesToAll) {
  const Policy policy = parse(R"(
  - subjects: ["spiffe://plant-a/client/ci"]
    actions: [deploy, invoke]
    resources: ["function:pump-*", "function:boiler"]
  - subjects: ["spiffe://plant-a/client/ci"]
    actions: [read]
)");
  const std::string_view ci = "spiffe://plant-a/client/ci";
  EXPECT_TRUE(allowed(policy, ci, Role::kViewer, Action::kDeploy, function("pump-1")));
  EXPECT_TRUE(allowed(policy, ci, Role::kViewer, Action::kInvoke, function("boiler")));
  EXPECT_FALSE(allowed(policy, ci, Role::kViewer, Action::kDeploy, function("valve-1")));
  EXPECT_FALSE(allowed(policy, ci, Role::kViewer, Action::kDeploy, function("boiler-2")));
  // A rule that lists resources never applies to a request without one.
  EXPECT_FALSE(allowed(policy, ci, Role::kViewer, Action::kDeploy));
  EXPECT_TRUE(allowed(policy, ci, Role::kViewer, Action::kRead, function("valve-1")));
  EXPECT_TRUE(allowed(policy, ci, Role::kViewer, Action::kRead));
  // Sensor patterns are MQTT's, and apply to sensors only.
  const Policy sensors = parse(R"(
  - subjects: [role:device]
    actions: [ingest, invoke]
    resources: ["sensor:rotating/+/vibration"]
)");
  const Resource sensor{ResourceKind::kSensor, "rotating/p1/vibration"};
  EXPECT_TRUE(allowed(sensors, "token:d", Role::kDevice, Action::kIngest, sensor));
  EXPECT_FALSE(allowed(sensors, "token:d", Role::kDevice, Action::kIngest,
                       {ResourceKind::kSensor, "rotating/p1/temp"}));
  EXPECT_FALSE(allowed(sensors, "token:d", Role::kDevice, Action::kInvoke,
                       function("rotating/p1/vibration")));
}

TEST(PolicyTest, AResourceTheBodyNamesIsBoundedForTheHandler) {
  const Policy policy = parse(R"(
  - {subjects: ["token:feeder"], actions: [ingest], resources: ["sensor:grid/f1/#"]}
  - {subjects: ["token:feeder"], actions: [ingest], resources: ["sensor:grid/f9/#"]}
  - {subjects: ["token:feeder"], actions: [ingest], resources: ["sensor:grid/f1/secret"],
     effect: deny}
  - {subjects: ["token:ops"], actions: [deploy]}
  - {subjects: ["token:ops"], actions: [deploy], resources: ["function:valve-*"], effect: deny}
)");
  const Resource body_sensor{ResourceKind::kSensor, {}};
  const Decision feeder =
      policy.decide({"token:feeder", Role::kDevice}, Action::kIngest, body_sensor);
  ASSERT_TRUE(feeder.allowed);
  EXPECT_FALSE(feeder.bound.any);
  EXPECT_EQ(feeder.bound.allow.size(), 2U);
  EXPECT_EQ(feeder.bound.deny.size(), 1U);
  EXPECT_FALSE(policy.decide({"token:other", Role::kDevice}, Action::kIngest, body_sensor).allowed);

  const Decision ops =
      policy.decide({"token:ops", Role::kViewer}, Action::kDeploy, {ResourceKind::kFunction, {}});
  ASSERT_TRUE(ops.allowed);
  EXPECT_TRUE(ops.bound.any);
  EXPECT_EQ(ops.bound.deny.size(), 1U);
  EXPECT_TRUE(ops.bound.limits());
  // A known resource needs no bound.
  EXPECT_FALSE(policy.decide({"token:ops", Role::kViewer}, Action::kDeploy, function("pump-1"))
                   .bound.limits());
}

// Without a policy file the node runs builtInPolicy(): each role may do what its name says, for
// every kind of caller and resource, and nothing else.
TEST(PolicyTest, TheBuiltInPolicyIsTheBuiltInRoles) {
  using A = Action;
  const std::vector<Action> operator_actions = {A::kRead, A::kIngest, A::kInvoke, A::kScale,
                                                A::kRollout};
  std::vector<Action> deployer_actions = operator_actions;
  deployer_actions.insert(deployer_actions.end(), {A::kDeploy, A::kDelete, A::kArtifacts});
  const std::map<Role, std::vector<Action>> roles = {
      {Role::kViewer, {A::kRead}},
      {Role::kDevice, {A::kIngest}},
      {Role::kOperator, operator_actions},
      {Role::kDeployer, deployer_actions},  // not keys: a trusted key voids requireSignatures
  };
  const auto policy = builtInPolicy();
  for (const std::string_view subject :
       {"token:alice", "spiffe://plant-a/client/alice", "spiffe://plant-a/device/pump-7"}) {
    for (std::size_t r = 0; r < 5; ++r) {
      for (std::size_t a = 0; a < kActionCount; ++a) {
        const auto role = static_cast<Role>(r);
        const auto action = static_cast<Action>(a);
        const bool expected =
            role == Role::kAdmin ||
            std::find(roles.at(role).begin(), roles.at(role).end(), action) != roles.at(role).end();
        for (const Resource& resource :
             {Resource{}, function("pump-1"), Resource{ResourceKind::kFunction, {}},
              Resource{ResourceKind::kSensor, {}}}) {
          const Decision d = policy->decide({subject, role}, action, resource);
          EXPECT_EQ(d.allowed, expected)
              << subject << " " << roleName(role) << " " << actionName(action);
          EXPECT_FALSE(d.bound.limits());
        }
      }
    }
  }
  // The text is a policy file like any other.
  auto reparsed = parsePolicy(builtInPolicyText(), "builtin.yaml");
  ASSERT_TRUE(reparsed) << reparsed.error().str();
  EXPECT_EQ(reparsed->size(), 5U);
}

TEST(PolicyTest, TheExamplePolicyLoads) {
  auto example = loadPolicy(SIE_SOURCE_DIR "/examples/security/policy.yaml");
  ASSERT_TRUE(example) << example.error().str();
  EXPECT_TRUE(example
                  ->decide({"spiffe://plant-a/client/ci", Role::kDeployer}, Action::kDeploy,
                           function("pump-7"))
                  .allowed);
  EXPECT_FALSE(example
                   ->decide({"spiffe://plant-a/client/ci", Role::kDeployer}, Action::kDeploy,
                            function("valve-7"))
                   .allowed);
}

TEST(PolicyTest, EveryMistakeIsAnErrorAtItsLineThatSaysWhatToWrite) {
  struct Case {
    std::string rules;
    std::string where;
    std::string says;
  };
  const Case cases[] = {
      {"  - {subjects: [role:viewer], actions: [raed]}\n", "policy.yaml:4",
       "unknown action 'raed' (actions: read, ingest"},
      {"  - subjects: [role:viewer]\n    actions:\n      - read\n      - deploi\n", "policy.yaml:7",
       "unknown action 'deploi'"},
      {"  - {subjects: [role:viewer], actions: [read], efect: deny}\n", "policy.yaml:4",
       "unknown key 'efect' (known keys: subjects, actions, resources, effect, description)"},
      {"  - {subjects: [role:superuser], actions: [read]}\n", "policy.yaml:4",
       "subject 'role:superuser' names no role (roles: viewer"},
      {"  - {subjects: [alice], actions: [read]}\n", "policy.yaml:4",
       "write a SPIFFE ID pattern (spiffe://plant-a/client/*), a token identity (token:alice)"},
      {"  - {subjects: [\"spiffe://plant-a/client**\"], actions: [read]}\n", "policy.yaml:4",
       "'**' must be a whole segment"},
      {"  - {subjects: [role:viewer], actions: [read], resources: [\"pump-*\"]}\n", "policy.yaml:4",
       "neither function:GLOB (function:pump-*) nor sensor:TOPIC-PATTERN"},
      {"  - {subjects: [role:viewer], actions: [read], resources: [\"function:Pump_1\"]}\n",
       "policy.yaml:4", "lowercase letters, digits, '-' and '*'"},
      {"  - {subjects: [role:viewer], actions: [read], resources: [\"sensor:a/#/b\"]}\n",
       "policy.yaml:4", "'#' may only be the last level"},
      {"  - {subjects: [role:viewer], actions: [read], resources: []}\n", "policy.yaml:4",
       "leave the key out for a rule on every resource"},
      {"  - {subjects: [], actions: [read]}\n", "policy.yaml:4", "'subjects' is empty"},
      {"  - {actions: [read]}\n", "policy.yaml:4", "missing required key 'subjects'"},
      {"  - {subjects: [role:viewer], actions: [read], effect: maybe}\n", "policy.yaml:4",
       "'effect' must be allow or deny (got 'maybe')"},
      {"  - {subjects: role:viewer, actions: [read]}\n", "policy.yaml:4",
       "'subjects' must be a list"},
      {"  - {subjects: [role:viewer], actions: [read]\n", "policy.yaml:5", "invalid YAML"},
  };
  for (const Case& c : cases) {
    auto policy = parsePolicy(std::string(kHeader) + c.rules, "policy.yaml");
    ASSERT_FALSE(policy) << c.rules;
    EXPECT_EQ(policy.error().where, c.where) << c.rules << policy.error().str();
    EXPECT_THAT(policy.error().message, HasSubstr(c.says)) << c.rules;
  }
  auto kind = parsePolicy("apiVersion: sie/v1\nkind: Site\nrules: []\n", "policy.yaml");
  ASSERT_FALSE(kind);
  EXPECT_THAT(kind.error().str(), HasSubstr("expected apiVersion sie/v1 and kind Policy"));
  auto top = parsePolicy("apiVersion: sie/v1\nkind: Policy\nrule: []\n", "policy.yaml");
  ASSERT_FALSE(top);
  EXPECT_THAT(top.error().str(), HasSubstr("policy.yaml:3: unknown key 'rule'"));
  auto missing = parsePolicy("apiVersion: sie/v1\nkind: Policy\n", "policy.yaml");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().str(), HasSubstr("missing required key 'rules'"));
}

TEST(PolicyTest, SizeCountAndDepthAreBounded) {
  std::string many(kHeader);
  for (std::size_t i = 0; i <= kMaxPolicyRules; ++i) {
    many += "  - {subjects: [role:viewer], actions: [read]}\n";
  }
  auto too_many = parsePolicy(many, "policy.yaml");
  ASSERT_FALSE(too_many);
  EXPECT_THAT(too_many.error().message, HasSubstr("at most 1000"));

  std::string subjects = "  - actions: [read]\n    subjects:\n";
  for (std::size_t i = 0; i <= kMaxPolicyListEntries; ++i) {
    subjects += "      - token:t" + std::to_string(i) + "\n";
  }
  auto long_list = parsePolicy(std::string(kHeader) + subjects, "policy.yaml");
  ASSERT_FALSE(long_list);
  EXPECT_THAT(long_list.error().message, HasSubstr("at most 256"));

  auto huge =
      parsePolicy(std::string(kHeader) + "# " + std::string(kMaxPolicyBytes, 'x'), "policy.yaml");
  ASSERT_FALSE(huge);
  EXPECT_THAT(huge.error().message, HasSubstr("larger than"));

  const std::string deep =
      std::string(kHeader) + "  - subjects: " + std::string(10'000, '[') + std::string(10'000, ']');
  auto nested = parsePolicy(deep, "policy.yaml");
  ASSERT_FALSE(nested);
}

}  // namespace
}  // namespace sie::security
