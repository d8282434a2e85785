// Who may call a running node: every attack of an unauthenticated or under-privileged caller is
// refused with the documented answer, the node goes on serving the others, and the audit shows
// each denial with the caller. Real clients: curl and the sie CLI.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "authz_fixture.h"

namespace sie {
namespace {

using ::testing::HasSubstr;

TEST_F(AuthzTest, UnauthenticatedCallsGet401AndNothingElse) {
  const std::string manifest = thresholdManifest("evil", "1", 5);
  struct Attempt {
    const char* method;
    const char* path;
    std::string body;
  };
  const Attempt attempts[] = {
      {"POST", "/api/v1/functions", manifest},
      {"PUT", "/api/v1/functions/evil", manifest},
      {"POST", "/system/functions", R"({"service":"evil","image":"builtin:threshold"})"},
      {"POST", "/api/v1/functions/volts/invoke", R"({"sensor":"grid/f1/voltage","value":1})"},
      {"POST", "/function/volts", R"({"sensor":"grid/f1/voltage","value":1})"},
      {"POST", "/api/v1/functions/volts/scale", R"({"max":8})"},
      {"DELETE", "/api/v1/functions/volts", ""},
      {"POST", "/api/v1/keys", "-----BEGIN PUBLIC KEY-----"},
      {"PUT", "/api/v1/artifacts/evil.so", std::string(4096, 'x')},
      {"POST", "/api/v1/events", R"({"sensor":"grid/f1/voltage","value":999})"},
      {"POST", "/api/v1/tokens", R"({"identity":"me","role":"admin"})"},
      {"GET", "/api/v1/status", ""},
      {"GET", "/metrics", ""},
      {"GET", "/api/v1/audit", ""},
  };
  for (const Attempt& a : attempts) {
    SCOPED_TRACE(std::string(a.method) + " " + a.path);
    const Reply r = as("", a.method, a.path, a.body, "-H 'Content-Type: application/json'");
    EXPECT_EQ(r.status, 401) << r.text;
    EXPECT_EQ(r.body["error"], "unauthenticated") << r.text;
    const Reply forged = as("sie_0123456789abcdef_" + std::string(64, '0'), a.method, a.path,
                            a.body, "-H 'Content-Type: application/json'");
    EXPECT_EQ(forged.status, 401) << forged.text;
  }
  // Nothing happened: no function, no upload spooled, no reading, the site's function unscaled.
  EXPECT_EQ(call("GET", "/api/v1/functions/evil").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/functions/volts").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/artifacts").body["artifacts"].size(), 0U);
  EXPECT_TRUE(std::filesystem::is_empty(node_->control().artifacts().incomingDir()));
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  EXPECT_EQ(as("", "GET", "/healthz").status, 200);  // probes need no credentials
  EXPECT_FALSE(denials().empty());
  EXPECT_EQ(denials().back()["caller"], "anonymous");
}

TEST_F(AuthzTest, EachRoleDoesWhatItMayAndTheAuditNamesTheCaller) {
  const std::string viewer = issue("grafana", "viewer");
  const std::string device = issue("pump-7", "device");
  const std::string operator_ = issue("night-shift", "operator");
  const std::string deployer = issue("ci-bot", "deployer");

  EXPECT_EQ(as(viewer, "GET", "/api/v1/status").status, 200);
  Reply r = as(viewer, "POST", "/api/v1/functions", thresholdManifest("v", "1", 5),
               "-H 'Content-Type: application/yaml'");
  EXPECT_EQ(r.status, 403) << r.text;
  EXPECT_THAT(r.text, HasSubstr("'grafana' (role viewer) may not deploy"));
  EXPECT_EQ(denials().back()["caller"], "grafana");
  EXPECT_EQ(denials().back()["action"], "deploy");

  EXPECT_EQ(as(device, "POST", "/api/v1/events", R"({"sensor":"grid/f1/voltage","value":230})",
               "-H 'Content-Type: application/json'")
                .status,
            202);
  EXPECT_EQ(as(device, "GET", "/api/v1/status").status, 403);
  EXPECT_EQ(as(operator_, "POST", "/api/v1/functions/volts/invoke",
               R"({"sensor":"grid/f1/voltage","value":260})", "-H 'Content-Type: application/json'")
                .status,
            200);
  EXPECT_EQ(as(operator_, "DELETE", "/api/v1/functions/volts").status, 403);
  EXPECT_EQ(as(deployer, "POST", "/api/v1/keys", "x").status, 403);  // keys are the admin's
  EXPECT_EQ(as(deployer, "GET", "/api/v1/tokens").status, 403);
  r = as(deployer, "POST", "/api/v1/functions", thresholdManifest("ci", "1", 5),
         "-H 'Content-Type: application/yaml'");
  EXPECT_EQ(r.status, 201) << r.text;

  // The change is audited with who made it.
  bool found = false;
  const auto records = node_->state().audit().tail(100);
  for (const auto& record : *records) {
    if (record.kind != "control" || record.subject != "ci") continue;
    const auto body = nlohmann::json::parse(record.body);
    found = body["actor"] == "ci-bot" && body["decision"] == "allow";
  }
  EXPECT_TRUE(found);
}

TEST_F(AuthzTest, RevokedAndExpiredTokensAreRefusedFromTheNextCallOn) {
  const std::string token = issue("laptop", "operator");
  EXPECT_EQ(as(token, "GET", "/api/v1/status").status, 200);
  const std::string id = token.substr(4, 16);
  EXPECT_THAT(sie("token revoke " + id), HasSubstr("rc=0"));
  Reply r = as(token, "GET", "/api/v1/status");
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.text, HasSubstr("revoked"));

  // Issued offline in the data folder, with a one-second life.
  const std::string short_lived = testing::capture(fmt::format(
      "{} token create script --role viewer --ttl 1s --data-dir {}", SIE_CLI, data_.path()));
  ASSERT_THAT(short_lived, ::testing::StartsWith("sie_"));
  const std::string text = short_lived.substr(0, short_lived.find('\n'));
  EXPECT_EQ(as(text, "GET", "/api/v1/status").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  r = as(text, "GET", "/api/v1/status");
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.text, HasSubstr("expired"));
}

TEST_F(AuthzTest, TheCliAuthenticatesWithATokenAndSaysWhenItHasNone) {
  ::unsetenv("SIE_TOKEN_FILE");
  std::string out = sie("fn ls");
  EXPECT_THAT(out, HasSubstr("requires a bearer token"));
  EXPECT_THAT(out, HasSubstr("rc=1"));
  const std::string token = issue("cli-user", "viewer");
  out = sie("fn ls --token " + token);
  EXPECT_THAT(out, HasSubstr("volts"));
  EXPECT_THAT(out, HasSubstr("rc=0"));
  out = testing::capture(fmt::format("SIE_TOKEN={} {} fn ls --node http://127.0.0.1:{} 2>&1", token,
                                     SIE_CLI, node_->httpPort()));
  EXPECT_THAT(out, HasSubstr("volts"));
  out = sie("fn ls --token-file /nonexistent/token");
  EXPECT_THAT(out, HasSubstr("cannot read the token file"));
  EXPECT_THAT(out, HasSubstr("rc=2"));
}

TEST_F(AuthzTest, ACrossSiteFormAndARebindingHostAreRefused) {
  // DNS rebinding: the attacker's name resolves to 127.0.0.1, the browser sends its Host.
  Reply r = call("GET", "/api/v1/status", "", "-H 'Host: attacker.example'");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["error"], "host_not_allowed");
  r = call("POST", "/api/v1/functions", thresholdManifest("x", "1", 5),
           "-H 'Origin: https://attacker.example' -H 'Content-Type: text/plain'");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["error"], "cross_origin");
  r = call("OPTIONS", "/api/v1/functions", "",
           "-H 'Origin: https://attacker.example' -H 'Access-Control-Request-Method: POST'");
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.text, ::testing::Not(HasSubstr("Access-Control-Allow")));
}

// A device token scoped to its own sensors cannot send readings for another asset's.
TEST_F(AuthzTest, ADeviceSendsReadingsForItsOwnSensorsOnly) {
  const Reply r = call("POST", "/api/v1/tokens",
                       R"({"identity":"feeder-1","role":"device","sensors":"grid/f1/#"})",
                       "-H 'Content-Type: application/json'");
  ASSERT_EQ(r.status, 201) << r.text;
  const std::string device = r.body["token"];
  const std::string json = "-H 'Content-Type: application/json'";
  EXPECT_EQ(
      as(device, "POST", "/api/v1/events", R"({"sensor":"grid/f1/voltage","value":231})", json)
          .status,
      202);
  Reply refused =
      as(device, "POST", "/api/v1/events", R"({"sensor":"grid/f2/voltage","value":999})", json);
  EXPECT_EQ(refused.status, 403) << refused.text;
  EXPECT_THAT(refused.text, HasSubstr("'feeder-1' may send readings for grid/f1/# only"));
  // So is a plain number that names the sensor in the query.
  refused = as(device, "POST", "/api/v1/events?sensor=grid/f2/voltage", "999",
               "-H 'Content-Type: text/plain'");
  EXPECT_EQ(refused.status, 403) << refused.text;
  const auto foreign = node_->state().timeSeries().lastN(Symbol::intern("grid/f2/voltage"), 5);
  ASSERT_TRUE(foreign);
  EXPECT_TRUE(foreign->empty());
  EXPECT_EQ(
      call("POST", "/api/v1/tokens", R"({"identity":"bad","role":"device","sensors":"grid/#/x"})",
           "-H 'Content-Type: application/json'")
          .status,
      400);
}

// A caller that calls too often is slowed with 429 and Retry-After; the others are served.
TEST_F(AuthzTest, ACallerOverItsRateIsToldToWaitAndOthersAreServed) {
  site_text_ = std::string(kSite) + "  security: {callsPerSecond: 2, burst: 4}\n";
  restart();
  const std::string poller = issue("poller", "viewer");
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 12; ++i) {
    const Reply r = as(poller, "GET", "/api/v1/status", "", "-D " + data_.file("headers.txt"));
    if (r.status == 429) {
      ++limited;
      EXPECT_EQ(r.body["error"], "rate_limited");
      std::ifstream in(data_.file("headers.txt"));
      for (std::string line; std::getline(in, line);) {
        if (line.rfind("Retry-After:", 0) == 0) retry_after = line.substr(13);
      }
    }
  }
  EXPECT_GE(limited, 6);
  EXPECT_EQ(retry_after.substr(0, 1), "1");
  EXPECT_EQ(as(issue("grafana", "viewer"), "GET", "/api/v1/status").status, 200);
  EXPECT_EQ(as("", "GET", "/healthz").status, 200);
}

TEST_F(AuthzTest, AnInsecureNodeStillRefusesBrowsersAndListensOnLoopbackOnly) {
  site_text_ = std::string(kSite) + "  security: {authentication: none}\n";
  restart();
  auth_ = false;
  Reply r = call("POST", "/api/v1/events", R"({"sensor":"grid/f1/voltage","value":230})",
                 "-H 'Content-Type: text/plain'");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["error"], "csrf");
  r = call("POST", "/api/v1/events", R"({"sensor":"grid/f1/voltage","value":230})",
           "-H 'Content-Type: application/json'");
  EXPECT_EQ(r.status, 202) << r.text;
  r = call("GET", "/api/v1/status", "", "-H 'Host: attacker.example'");
  EXPECT_EQ(r.status, 403);

  for (const char* http : {"0.0.0.0:0", "[::]:0"}) {
    for (const char* authentication : {"none", "token"}) {
      SCOPED_TRACE(std::string(http) + " " + authentication);
      testing::TempDir data;
      auto site = node::parseSite(
          {"t/site.yaml", fmt::format("apiVersion: sie/v1\nkind: Site\nspec:\n  http: \"{}\"\n"
                                      "  summaryInterval: 0\n  security: {{authentication: {}}}\n",
                                      http, authentication)},
          {});
      ASSERT_TRUE(site) << site.error().str();
      site->data_dir = data.path();
      auto made = node::Node::create(std::move(*site), plugins_);
      ASSERT_TRUE(made) << made.error().str();
      auto started = (*made)->start();
      ASSERT_FALSE(started);
      EXPECT_THAT(started.error().message, HasSubstr("not a loopback address"));
      EXPECT_THAT(started.error().message, HasSubstr("listen on 127.0.0.1"));
      (*made)->stop();
    }
  }
}

TEST_F(AuthzTest, CallbacksCannotReachNetworksTheSiteDidNotAllow) {
  std::atomic<int> received{0};
  auto receiver = http::HttpServer::start("127.0.0.1:0", [&](const http::HttpRequest&) {
    ++received;
    return http::HttpResponse{200, "text/plain", "ok", {}};
  });
  ASSERT_TRUE(receiver);
  const auto async_call = [&](const std::string& callback) {
    Reply r = call("POST", "/api/v1/functions/volts/invoke?async=true",
                   R"({"sensor":"grid/f1/voltage","value":260})",
                   "-H 'Content-Type: application/json' -H 'X-Callback-Url: " + callback + "'");
    EXPECT_EQ(r.status, 202) << r.text;
    const std::string id = r.body.value("callId", "");
    nlohmann::json status;
    EXPECT_TRUE(testing::waitUntil([&] {
      status = call("GET", "/api/v1/calls/" + id).body;
      return status.value("status", "") == "done" &&
             (status.contains("callbackError") || received > 0);
    }));
    return status;
  };
  // Loopback is the default: the node's own neighbours on this host.
  const std::string local = fmt::format("http://127.0.0.1:{}/done", (*receiver)->port());
  async_call(local);
  EXPECT_EQ(received, 1);
  // A site that allows only its plant network: a caller cannot point the node at this host's
  // services, under their address or under a name that resolves to it.
  site_text_ = std::string(kSite) + "  security: {callbackNetworks: [10.20.0.0/16]}\n";
  restart();
  for (const std::string& url :
       {local, fmt::format("http://localhost:{}/done", (*receiver)->port()),
        fmt::format("http://[::ffff:127.0.0.1]:{}/done", (*receiver)->port())}) {
    SCOPED_TRACE(url);
    const nlohmann::json status = async_call(url);
    EXPECT_THAT(status.value("callbackError", ""), HasSubstr("outside the networks")) << status;
  }
  EXPECT_EQ(received, 1);
  (*receiver)->stop();
}

}  // namespace
}  // namespace sie
