// A site policy file on a running node, attacked with curl and the sie CLI: a subject allowed to
// deploy pump-* functions deploys no valve, by any route; a device sends readings for its own
// sensors only; a changed file takes effect without a restart, a broken one leaves the last good
// policy in force; every denial is audited with the caller and the resource.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "authz_fixture.h"

namespace sie {
namespace {

using ::testing::HasSubstr;

constexpr const char* kYaml = "-H 'Content-Type: application/yaml'";
constexpr const char* kJson = "-H 'Content-Type: application/json'";

constexpr const char* kPumpsOnly = R"(apiVersion: sie/v1
kind: Policy
rules:
  - {subjects: [role:admin], actions: ["*"]}
  - subjects: ["token:ci-bot"]
    actions: [deploy, delete, invoke]
    resources: ["function:pump-*"]
  - {subjects: ["token:ci-bot"], actions: [read]}
)";

class PolicyFileTest : public AuthzTest {
 protected:
  void startWithPolicy(const std::string& policy) {
    writePolicy(policy);
    site_text_ = std::string(kSite) + "  security: {policy: " + policyFile() + "}\n";
    restart();
  }
  void writePolicy(const std::string& policy) {
    // Renamed over the old one, as editors and configuration tools do.
    std::ofstream(policyFile() + ".new") << policy;
    std::filesystem::rename(policyFile() + ".new", policyFile());
  }
  [[nodiscard]] std::string policyFile() const { return data_.file("policy.yaml"); }
  bool deployed(const std::string& name) {
    return call("GET", "/api/v1/functions/" + name).status == 200;
  }
};

TEST_F(PolicyFileTest, ASubjectAllowedPumpFunctionsDeploysNoValveByAnyRoute) {
  startWithPolicy(kPumpsOnly);
  // A viewer by role: only the policy lets it deploy.
  const std::string ci = issue("ci-bot", "viewer");
  Reply r = as(ci, "PUT", "/api/v1/functions/pump-1", thresholdManifest("pump-1", "1", 5), kYaml);
  EXPECT_EQ(r.status, 201) << r.text;
  r = as(ci, "POST", "/api/v1/functions", thresholdManifest("pump-2", "1", 5), kYaml);
  EXPECT_EQ(r.status, 201) << r.text;
  EXPECT_EQ(as(ci, "POST", "/api/v1/functions/pump-1/invoke",
               R"({"sensor":"rotating/p1/vibration","value":9})", kJson)
                .status,
            200);

  r = as(ci, "PUT", "/api/v1/functions/valve-1", thresholdManifest("valve-1", "1", 5), kYaml);
  EXPECT_EQ(r.status, 403) << r.text;
  EXPECT_THAT(r.text, HasSubstr("'ci-bot' (role viewer) may not deploy 'valve-1': no rule of the "
                                "site's policy allows it"));
  r = as(ci, "PUT", "/api/v1//functions/valve-1/", thresholdManifest("valve-1", "1", 5), kYaml);
  EXPECT_EQ(r.status, 403) << r.text;
  // The manifest names the function: the handler checks it once the body is read.
  r = as(ci, "POST", "/api/v1/functions", thresholdManifest("valve-1", "1", 5), kYaml);
  EXPECT_EQ(r.status, 403) << r.text;
  EXPECT_THAT(r.text, HasSubstr("'ci-bot' may deploy pump-* only, not 'valve-1'"));
  r = as(ci, "POST", "/system/functions", R"({"service":"valve-2","image":"builtin:threshold"})",
         kJson);
  EXPECT_EQ(r.status, 403) << r.text;
  r = as(ci, "DELETE", "/system/functions", R"({"functionName":"volts"})", kJson);
  EXPECT_EQ(r.status, 403) << r.text;
  EXPECT_EQ(
      as(ci, "POST", "/function/volts", R"({"sensor":"grid/f1/voltage","value":1})", kJson).status,
      403);
  EXPECT_FALSE(deployed("valve-1"));
  EXPECT_FALSE(deployed("valve-2"));
  EXPECT_TRUE(deployed("volts"));

  // The CLI deploys through POST /api/v1/functions, so the same holds for `sie deploy`.
  const std::string pump = data_.file("pump-3.yaml");
  const std::string valve = data_.file("valve-3.yaml");
  std::ofstream(pump) << thresholdManifest("pump-3", "1", 5);
  std::ofstream(valve) << thresholdManifest("valve-3", "1", 5);
  EXPECT_THAT(sie("deploy -f " + pump + " --token " + ci), HasSubstr("rc=0"));
  const std::string refused = sie("deploy -f " + valve + " --token " + ci);
  EXPECT_THAT(refused, HasSubstr("may deploy pump-* only, not 'valve-3'"));
  EXPECT_THAT(refused, ::testing::Not(HasSubstr("rc=0")));
  EXPECT_TRUE(deployed("pump-3"));
  EXPECT_FALSE(deployed("valve-3"));

  // Every denial is audited with the caller and what it asked for.
  std::vector<std::string> resources;
  for (const auto& denial : denials()) {
    EXPECT_EQ(denial["caller"], "ci-bot") << denial;
    EXPECT_EQ(denial["source"], "local") << denial;
    resources.push_back(denial.value("resource", ""));
  }
  EXPECT_THAT(resources, ::testing::IsSupersetOf({"function:valve-1", "function:valve-2",
                                                  "function:volts", "function:valve-3"}));
  const std::string metrics = call("GET", "/metrics").text;
  EXPECT_THAT(metrics, HasSubstr(R"(sie_policy_decisions_total{action="deploy",outcome="denied",)"
                                 R"(source="local"})"));
}

TEST_F(PolicyFileTest, ADeviceSendsReadingsForTheSensorsThePolicyGivesItOnly) {
  startWithPolicy(R"(apiVersion: sie/v1
kind: Policy
rules:
  - {subjects: [role:admin], actions: ["*"]}
  - {subjects: ["token:feeder-1"], actions: [ingest], resources: ["sensor:grid/f1/#"]}
)");
  // The token names no sensors: the policy alone bounds it.
  const std::string feeder1 = issue("feeder-1", "device");
  EXPECT_EQ(
      as(feeder1, "POST", "/api/v1/events", R"({"sensor":"grid/f1/voltage","value":231})", kJson)
          .status,
      202);
  Reply r =
      as(feeder1, "POST", "/api/v1/events", R"({"sensor":"grid/f2/voltage","value":999})", kJson);
  EXPECT_EQ(r.status, 403) << r.text;
  EXPECT_THAT(r.text, HasSubstr("'feeder-1' may send readings for grid/f1/# only, not for "
                                "'grid/f2/voltage' (the site's policy)"));
  r = as(feeder1, "POST", "/api/v1/events?sensor=grid/f2/voltage", "999",
         "-H 'Content-Type: text/plain'");
  EXPECT_EQ(r.status, 403) << r.text;
  const auto foreign = node_->state().timeSeries().lastN(Symbol::intern("grid/f2/voltage"), 5);
  ASSERT_TRUE(foreign);
  EXPECT_TRUE(foreign->empty());
  EXPECT_EQ(denials().back()["caller"], "feeder-1");
  EXPECT_EQ(denials().back()["resource"], "sensor:grid/f2/voltage");

  // Another device has no rule; neither may this one read.
  const std::string feeder2 = issue("feeder-2", "device");
  r = as(feeder2, "POST", "/api/v1/events", R"({"sensor":"grid/f2/voltage","value":1})", kJson);
  EXPECT_EQ(r.status, 403) << r.text;
  EXPECT_THAT(r.text, HasSubstr("no rule of the site's policy allows it"));
  EXPECT_EQ(as(feeder1, "GET", "/api/v1/status").status, 403);
}

TEST_F(PolicyFileTest, AChangedPolicyTakesEffectAndABrokenOneLeavesTheLastGood) {
  startWithPolicy(kPumpsOnly);
  const std::string ci = issue("ci-bot", "viewer");
  EXPECT_EQ(as(ci, "PUT", "/api/v1/functions/valve-1", thresholdManifest("valve-1", "1", 5), kYaml)
                .status,
            403);
  std::string valves = kPumpsOnly;
  valves.replace(valves.find("function:pump-*"), 15, "function:valve-*");
  writePolicy(valves);
  // The file is looked at, once a second at most, when calls come.
  EXPECT_TRUE(testing::waitUntil([&] {
    return as(ci, "PUT", "/api/v1/functions/valve-1", thresholdManifest("valve-1", "1", 5), kYaml)
               .status == 201;
  }));
  auto loads = denials("policy");
  ASSERT_EQ(loads.size(), 2U);  // loaded at start, then reloaded
  EXPECT_EQ(loads.back()["event"], "reloaded");
  EXPECT_EQ(loads.back()["file"], policyFile());

  writePolicy(valves + "  - {subjects: [role:viewer], actions: [raed]}\n");
  EXPECT_TRUE(testing::waitUntil([&] {
    as(ci, "GET", "/api/v1/status");
    return denials("policy").back()["event"] == "reload_failed";
  }));
  EXPECT_THAT(denials("policy").back()["reason"].get<std::string>(),
              HasSubstr(policyFile() + ":9: unknown action 'raed'"));
  EXPECT_EQ(as(ci, "PUT", "/api/v1/functions/valve-2", thresholdManifest("valve-2", "1", 5), kYaml)
                .status,
            201);
}

TEST_F(PolicyFileTest, APolicyThatDoesNotLoadStopsTheNodeBeforeItListens) {
  writePolicy(std::string(kPumpsOnly) + "  - {subjects: [operator], actions: [read]}\n");
  auto site = node::parseSite(
      {"t/site.yaml", std::string(kSite) + "  security: {policy: " + policyFile() + "}\n"}, {});
  ASSERT_TRUE(site) << site.error().str();
  testing::TempDir data;
  site->data_dir = data.path();
  auto made = node::Node::create(std::move(*site), plugins_);
  ASSERT_TRUE(made) << made.error().str();
  auto started = (*made)->start();
  ASSERT_FALSE(started);
  EXPECT_THAT(started.error().str(), HasSubstr(policyFile() + ":9: subject 'operator'"));
  (*made)->stop();

  // Without authentication there is no caller for a policy to tell apart.
  auto insecure = node::parseSite(
      {"t/site.yaml", std::string(kSite) + "  security: {authentication: none, policy: p.yaml}\n"},
      {});
  ASSERT_FALSE(insecure);
  EXPECT_THAT(insecure.error().message, HasSubstr("set authentication: token"));

  // The path is relative to the site file.
  std::ofstream(data.file("site.yaml")) << kSite << "  security: {policy: rules/p.yaml}\n";
  auto loaded = node::loadSite(data.file("site.yaml"));
  ASSERT_TRUE(loaded) << loaded.error().str();
  EXPECT_EQ(loaded->security.policy_file, data.file("rules/p.yaml"));
}

}  // namespace
}  // namespace sie
