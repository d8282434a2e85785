// The guard in front of every handler: host names, CORS, cross-site forms, bearer tokens and
// roles, and the audit of refusals.
#include "security/request_guard.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "memory_audit.h"
#include "sie/metrics.h"

namespace sie::security {
namespace {

using ::testing::HasSubstr;

http::HttpRequest request(std::string method, std::string path,
                          std::string host = "127.0.0.1:8080") {
  http::HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  r.headers["host"] = std::move(host);
  r.peer = "127.0.0.1:40000";
  return r;
}

class RequestGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sie-guard-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    tokens_ = std::move(*TokenStore::open(dir_.string(), systemClock()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string token(std::string_view identity, Role role) {
    return "Bearer " + tokens_->create(identity, role, std::chrono::hours(1))->text;
  }

  std::filesystem::path dir_;
  std::unique_ptr<TokenStore> tokens_;
  MemoryAudit audit_;
};

TEST_F(RequestGuardTest, OnlyThisNodesHostNamesAreAnswered) {
  RequestGuard guard({.authenticate = false, .hosts = {"edge-7.plant.example"}}, nullptr, audit_);
  for (const char* host : {"127.0.0.1:8080", "localhost", "LOCALHOST:1", "[::1]:8080", "127.0.0.2",
                           "edge-7.plant.example:8080"}) {
    auto r = request("GET", "/metrics", host);
    EXPECT_FALSE(guard.admit(r)) << host;
  }
  for (const char* host :
       {"attacker.example", "attacker.example:8080", "", "127.0.0.1.evil.io", "[::2]:80"}) {
    auto r = request("GET", "/metrics", host);
    auto refused = guard.admit(r);
    ASSERT_TRUE(refused) << host;
    EXPECT_EQ(refused->status, 403);
    EXPECT_THAT(refused->body, HasSubstr("host_not_allowed"));
  }
}

TEST_F(RequestGuardTest, BrowsersCannotActAcrossSites) {
  RequestGuard guard({.authenticate = false}, nullptr, audit_);
  auto preflight = request("OPTIONS", "/api/v1/functions");
  ASSERT_TRUE(guard.admit(preflight));
  EXPECT_THAT(guard.admit(preflight)->body, HasSubstr("cors_refused"));

  auto foreign = request("POST", "/api/v1/functions");
  foreign.headers["origin"] = "https://attacker.example";
  foreign.headers["content-type"] = "application/json";
  ASSERT_TRUE(guard.admit(foreign));
  EXPECT_THAT(guard.admit(foreign)->body, HasSubstr("cross_origin"));

  // A form post (text/plain, urlencoded, multipart or none) needs the explicit header.
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded; charset=utf-8",
                           "multipart/form-data; boundary=x", ""}) {
    auto form = request("POST", "/api/v1/events");
    if (*type != '\0') form.headers["content-type"] = type;
    auto refused = guard.admit(form);
    ASSERT_TRUE(refused) << type;
    EXPECT_THAT(refused->body, HasSubstr("csrf"));
    form.headers["x-sie-request"] = "1";
    EXPECT_FALSE(guard.admit(form)) << type;
  }
  auto api = request("POST", "/api/v1/events");
  api.headers["content-type"] = "application/json";
  api.headers["origin"] = "http://127.0.0.1:8080";  // the node's own pages
  EXPECT_FALSE(guard.admit(api));
  EXPECT_EQ(api.caller, "local");
}

TEST_F(RequestGuardTest, TokensAuthenticateAndRolesAuthorize) {
  RequestGuard guard({.authenticate = true}, tokens_.get(), audit_);
  auto anonymous = request("GET", "/api/v1/status");
  auto refused = guard.admit(anonymous);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->headers["WWW-Authenticate"], R"(Bearer realm="sie")");
  EXPECT_EQ(nlohmann::json::parse(refused->body)["error"], "unauthenticated");

  auto health = request("GET", "/healthz");
  EXPECT_FALSE(guard.admit(health));

  auto basic = request("GET", "/api/v1/status");
  basic.headers["authorization"] = "Basic YWRtaW46YWRtaW4=";
  EXPECT_EQ(guard.admit(basic)->status, 401);

  auto viewer = request("GET", "/api/v1/status");
  viewer.headers["authorization"] = token("grafana", Role::kViewer);
  EXPECT_FALSE(guard.admit(viewer));
  EXPECT_EQ(viewer.caller, "grafana");

  audit_.records.clear();
  auto deploy = request("POST", "/api/v1/functions");
  deploy.headers["authorization"] = viewer.headers["authorization"];
  deploy.headers["content-type"] = "application/yaml";
  auto denied = guard.admit(deploy);
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  EXPECT_THAT(denied->body, HasSubstr("'grafana' (role viewer) may not deploy"));
  ASSERT_EQ(audit_.records.size(), 1U);
  const auto record = nlohmann::json::parse(audit_.records[0].body);
  EXPECT_EQ(audit_.records[0].kind, "security");
  EXPECT_EQ(record["caller"], "grafana");
  EXPECT_EQ(record["decision"], "deny");
  EXPECT_EQ(record["action"], "deploy");
  EXPECT_EQ(record["path"], "/api/v1/functions");
  EXPECT_EQ(record["peer"], "127.0.0.1:40000");

  auto deployer = request("POST", "/api/v1/functions");
  deployer.headers["authorization"] = token("ci", Role::kDeployer);
  EXPECT_FALSE(guard.admit(deployer));  // no content-type rule for token callers
  EXPECT_EQ(deployer.caller, "ci");
}

TEST_F(RequestGuardTest, ACallerOverItsRateGets429WithRetryAfter) {
  RequestGuard guard({.authenticate = true, .calls_per_second = 1, .burst = 2}, tokens_.get(),
                     audit_);
  const std::string busy = token("poller", Role::kViewer);
  const std::string other = token("grafana", Role::kViewer);
  const auto call = [&](const std::string& auth) {
    auto r = request("GET", "/api/v1/status");
    r.headers["authorization"] = auth;
    return guard.admit(r);
  };
  EXPECT_FALSE(call(busy));
  EXPECT_FALSE(call(busy));
  auto limited = call(busy);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->headers["Retry-After"], "1");
  EXPECT_THAT(limited->body, HasSubstr("rate_limited"));
  EXPECT_FALSE(call(other));  // the others are served
}

TEST_F(RequestGuardTest, AFloodOfAnonymousRefusalsIsAuditedAtABoundedRate) {
  RequestGuard guard({.authenticate = true}, tokens_.get(), audit_);
  for (int i = 0; i < 500; ++i) {
    auto r = request("POST", "/api/v1/functions");
    ASSERT_TRUE(guard.admit(r));
  }
  EXPECT_GE(audit_.records.size(), 20U);
  EXPECT_LE(audit_.records.size(), 60U);  // 20 a second; the loop may straddle seconds
}

// With a policy file the guard decides by its rules: on the route's function before the body,
// and on the function or sensors the body names once the handler reads it.
class PolicyGuardTest : public RequestGuardTest {
 protected:
  RequestGuard guardWith(const std::string& rules) {
    const std::string file = (dir_ / "policy.yaml").string();
    std::ofstream(file) << "apiVersion: sie/v1\nkind: Policy\nrules:\n" << rules;
    auto store = PolicyStore::open(file, audit_, systemClock(), std::chrono::seconds(1));
    EXPECT_TRUE(store) << store.error().str();
    return RequestGuard({.authenticate = true, .policy = std::move(*store)}, tokens_.get(), audit_);
  }
  std::vector<nlohmann::json> denials() {
    std::vector<nlohmann::json> out;
    for (auto& body : audit_.bodies("security")) {
      if (body.contains("status")) out.push_back(std::move(body));
    }
    return out;
  }
};

TEST_F(PolicyGuardTest, TheRouteFunctionIsDecidedBeforeTheBodyAndDenialsNameTheRule) {
  RequestGuard guard = guardWith(R"(
  - {subjects: ["token:ci"], actions: [deploy, invoke], resources: ["function:pump-*"]}
  - {subjects: ["token:ci"], actions: [invoke], resources: ["function:pump-9"], effect: deny}
)");
  const std::string ci = token("ci", Role::kViewer);
  const auto admit = [&](const char* method, const char* path) {
    auto r = request(method, path);
    r.headers["authorization"] = ci;
    return guard.admit(r);
  };
  const std::uint64_t decisions = metrics().counterTotal("sie_policy_decisions_total");
  EXPECT_FALSE(admit("PUT", "/api/v1/functions/pump-1"));
  EXPECT_FALSE(admit("POST", "/function/pump-1"));
  EXPECT_FALSE(admit("POST", "/api/v1/functions/pump-1/invoke"));
  for (const char* path : {"/api/v1/functions/valve-1", "/api/v1//functions//valve-1/",
                           "//api/v1/functions/valve-1"}) {
    auto refused = admit("PUT", path);
    ASSERT_TRUE(refused) << path;
    EXPECT_EQ(refused->status, 403);
    EXPECT_THAT(refused->body, HasSubstr("'ci' (role viewer) may not deploy 'valve-1': no rule of "
                                         "the site's policy allows it"));
  }
  auto refused = admit("POST", "/async-function/pump-9");
  ASSERT_TRUE(refused);
  EXPECT_THAT(refused->body, HasSubstr("may not invoke 'pump-9': the site's policy denies it"));
  const nlohmann::json denial = denials().back();
  EXPECT_EQ(denial["caller"], "ci");
  EXPECT_EQ(denial["resource"], "function:pump-9");
  EXPECT_EQ(denial["source"], "local");
  EXPECT_THAT(denial["rule"].get<std::string>(), HasSubstr("policy.yaml:6"));
  // Nothing without a rule: reading, another caller, another action.
  EXPECT_TRUE(admit("GET", "/api/v1/status"));
  EXPECT_TRUE(admit("DELETE", "/api/v1/functions/pump-1"));
  EXPECT_EQ(metrics().counterTotal("sie_policy_decisions_total"), decisions + 9);
}

TEST_F(PolicyGuardTest, AFunctionTheBodyNamesIsCheckedByTheHandlerAndAudited) {
  RequestGuard guard = guardWith(R"(
  - {subjects: ["token:ci"], actions: [deploy], resources: ["function:pump-*"]}
)");
  auto deploy = request("POST", "/api/v1/functions");
  deploy.headers["authorization"] = token("ci", Role::kViewer);
  ASSERT_FALSE(guard.admit(deploy));
  ASSERT_TRUE(deploy.scope);
  EXPECT_FALSE(deploy.scope->refusal(http::ResourceKind::kFunction, "pump-7"));
  const auto refused = deploy.scope->refusal(http::ResourceKind::kFunction, "valve-7");
  ASSERT_TRUE(refused);
  EXPECT_EQ(*refused, "'ci' may deploy pump-* only, not 'valve-7' (the site's policy)");
  const nlohmann::json denial = denials().back();
  EXPECT_EQ(denial["caller"], "ci");
  EXPECT_EQ(denial["resource"], "function:valve-7");
  EXPECT_EQ(denial["action"], "deploy");

  // Without a policy file nothing is bounded: the built-in roles name no resources.
  RequestGuard builtin({.authenticate = true}, tokens_.get(), audit_);
  auto admin = request("POST", "/api/v1/functions");
  admin.headers["authorization"] = token("root", Role::kAdmin);
  ASSERT_FALSE(builtin.admit(admin));
  EXPECT_FALSE(admin.scope);
}

TEST_F(PolicyGuardTest, IngestIsBoundedByTheCredentialAndThePolicy) {
  RequestGuard guard = guardWith(R"(
  - {subjects: [role:device], actions: [ingest], resources: ["sensor:grid/+/voltage"]}
  - {subjects: [role:device], actions: [ingest], resources: ["sensor:grid/f1/voltage"],
     effect: deny}
)");
  auto ingest = request("POST", "/api/v1/events");
  ingest.headers["authorization"] =
      "Bearer " +
      tokens_->create("feeder-2", Role::kDevice, std::chrono::hours(1), "grid/f2/#")->text;
  ASSERT_FALSE(guard.admit(ingest));
  ASSERT_TRUE(ingest.scope);
  using http::ResourceKind;
  EXPECT_FALSE(ingest.scope->refusal(ResourceKind::kSensor, "grid/f2/voltage"));
  EXPECT_EQ(ingest.scope->refusal(ResourceKind::kSensor, "grid/f3/voltage"),
            "'feeder-2' may send readings for grid/f2/# only, not for 'grid/f3/voltage'");
  EXPECT_EQ(ingest.scope->refusal(ResourceKind::kSensor, "grid/f2/current"),
            "'feeder-2' may send readings for grid/+/voltage only, not for 'grid/f2/current' "
            "(the site's policy)");
  auto feeder1 = request("POST", "/api/v1/events");
  feeder1.headers["authorization"] = token("feeder-1", Role::kDevice);
  ASSERT_FALSE(guard.admit(feeder1));
  EXPECT_EQ(feeder1.scope->refusal(ResourceKind::kSensor, "grid/f1/voltage"),
            "'feeder-1' may not send readings for 'grid/f1/voltage': the site's policy denies it");
  EXPECT_EQ(denials().back()["resource"], "sensor:grid/f1/voltage");
  // A viewer has no ingest rule at all.
  auto viewer = request("POST", "/api/v1/events");
  viewer.headers["authorization"] = token("grafana", Role::kViewer);
  EXPECT_EQ(guard.admit(viewer)->status, 403);
}

}  // namespace
}  // namespace sie::security
