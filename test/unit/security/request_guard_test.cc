// The guard in front of every handler: host names, CORS, cross-site forms, bearer tokens and
// roles, and the audit of refusals.
#include "security/request_guard.h"

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sie::security {
namespace {

using ::testing::HasSubstr;

class MemoryAudit final : public AuditLog {
 public:
  Result<std::int64_t> append(std::string_view kind, std::string_view subject,
                              std::string_view body) override {
    records.push_back({static_cast<std::int64_t>(records.size() + 1), 0, std::string(kind),
                       std::string(subject), std::string(body)});
    return records.back().seq;
  }
  Result<std::vector<AuditRecord>> tail(std::size_t) override { return records; }
  Result<AuditVerifyReport> verify() override { return AuditVerifyReport{}; }
  std::vector<AuditRecord> records;
};

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

}  // namespace
}  // namespace sie::security
