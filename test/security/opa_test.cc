// An external decision point (spec.security.opa) on a running node, played by a small server
// that answers like OPA's REST Data API: it decides after the local policy allowed; a no is a 403,
// and a decision point that is slow, answers garbage or is gone refuses the call (503) within the
// timeout while the node goes on serving. Denials are audited with the caller.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "authz_fixture.h"
#include "sie/metrics.h"

namespace sie {
namespace {

using ::testing::HasSubstr;

constexpr const char* kJson = "-H 'Content-Type: application/json'";
constexpr const char* kReading = R"({"sensor":"grid/f1/voltage","value":260})";

enum class Mode { kAnswer, kSlow, kGarbage, kStringResult, kError };

class OpaTest : public AuthzTest {
 protected:
  void TearDown() override {
    AuthzTest::TearDown();
    if (opa_) opa_->stop();
  }

  // The decision server, then the node asking it.
  void startWithOpa(const std::string& timeout) {
    auto started = http::HttpServer::start(
        "127.0.0.1:0",
        [this](const http::HttpRequest& r) {
          const nlohmann::json input = nlohmann::json::parse(r.body)["input"];
          {
            std::lock_guard lock(mu_);
            inputs_.push_back(input);
          }
          const auto answer = [](std::string body, int status = 200) {
            return http::HttpResponse{status, "application/json", std::move(body), {}};
          };
          switch (mode_.load()) {
            case Mode::kSlow:
              std::this_thread::sleep_for(std::chrono::milliseconds(1500));
              return answer(R"({"result": true})");
            case Mode::kGarbage:
              return answer("yes");
            case Mode::kStringResult:
              return answer(R"({"result": "true"})");
            case Mode::kError:
              return answer(R"({"code": "internal_error"})", 500);
            case Mode::kAnswer:
              break;
          }
          // Mallory may do nothing; everyone else what the local policy allows.
          return answer(
              nlohmann::json{{"result", {{"allow", input["subject"] != "token:mallory"}}}}.dump());
        },
        {.threads = 4});
    ASSERT_TRUE(started) << started.error().str();
    opa_ = std::move(*started);
    site_text_ = std::string(kSite) +
                 fmt::format(
                     "  security:\n    opa: {{url: \"http://127.0.0.1:{}/v1/data/sie/allow\", "
                     "timeout: {}}}\n",
                     opa_->port(), timeout);
    restart();
  }
  std::size_t asked() {
    std::lock_guard lock(mu_);
    return inputs_.size();
  }

  std::unique_ptr<http::HttpServer> opa_;
  std::atomic<Mode> mode_{Mode::kAnswer};
  std::mutex mu_;
  std::vector<nlohmann::json> inputs_;
};

TEST_F(OpaTest, TheDecisionPointDecidesWhatTheLocalPolicyAllowed) {
  startWithOpa("500ms");
  const std::string alice = issue("alice", "operator");
  const std::string mallory = issue("mallory", "operator");
  const std::string grafana = issue("grafana", "viewer");

  EXPECT_EQ(as(alice, "POST", "/api/v1/functions/volts/invoke", kReading, kJson).status, 200);
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(inputs_.back(), nlohmann::json::parse(R"({
        "subject": "token:alice", "role": "operator", "action": "invoke",
        "resource": "function:volts", "method": "POST",
        "path": "/api/v1/functions/volts/invoke"})"));
  }
  Reply r = as(mallory, "POST", "/api/v1/functions/volts/invoke", kReading, kJson);
  EXPECT_EQ(r.status, 403) << r.text;
  EXPECT_THAT(r.text, HasSubstr("'mallory' (role operator) may not invoke 'volts': the external "
                                "decision point denied it"));
  EXPECT_EQ(denials().back()["caller"], "mallory");
  EXPECT_EQ(denials().back()["source"], "opa");
  EXPECT_EQ(denials().back()["resource"], "function:volts");

  // The local policy first: what it refuses is never asked.
  const std::size_t before = asked();
  r = as(grafana, "DELETE", "/api/v1/functions/volts");
  EXPECT_EQ(r.status, 403) << r.text;
  EXPECT_EQ(denials().back()["source"], "local");
  EXPECT_EQ(asked(), before);
  EXPECT_EQ(as(grafana, "GET", "/api/v1/status").status, 200);
  EXPECT_EQ(asked(), before + 1);

  const std::string metrics = call("GET", "/metrics").text;
  EXPECT_THAT(metrics, HasSubstr(R"(sie_policy_decisions_total{action="invoke",outcome="denied",)"
                                 R"(source="opa"})"));
  EXPECT_THAT(metrics, HasSubstr(R"(sie_policy_decisions_total{action="invoke",outcome="allowed",)"
                                 R"(source="opa"})"));
}

TEST_F(OpaTest, ASlowBrokenOrMissingDecisionPointFailsClosed) {
  startWithOpa("100ms");
  const std::string alice = issue("alice", "operator");
  EXPECT_EQ(as(alice, "POST", "/api/v1/functions/volts/invoke", kReading, kJson).status, 200);

  mode_ = Mode::kSlow;
  const auto start = std::chrono::steady_clock::now();
  Reply r = as(alice, "POST", "/api/v1/functions/volts/invoke", kReading, kJson);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  EXPECT_EQ(r.status, 503) << r.text;
  EXPECT_EQ(r.body["error"], "decision_unavailable");
  EXPECT_THAT(r.text, HasSubstr("did not answer within 100 ms"));
  EXPECT_THAT(r.text, HasSubstr("the node refuses what it cannot check"));
  // The node answered while the decision point still hangs; health probes ask no one.
  EXPECT_EQ(as("", "GET", "/healthz").status, 200);

  for (const Mode mode : {Mode::kGarbage, Mode::kStringResult, Mode::kError}) {
    mode_ = mode;
    r = as(alice, "POST", "/api/v1/functions/volts/invoke", kReading, kJson);
    EXPECT_EQ(r.status, 503) << r.text;
  }
  EXPECT_THAT(r.text, HasSubstr("answered HTTP 500"));

  opa_->stop();
  r = as(alice, "POST", "/api/v1/functions/volts/invoke", kReading, kJson);
  EXPECT_EQ(r.status, 503) << r.text;
  EXPECT_THAT(r.text, HasSubstr("gave no answer"));

  const auto refusals = denials();
  ASSERT_GE(refusals.size(), 5U);
  for (std::size_t i = refusals.size() - 5; i < refusals.size(); ++i) {
    EXPECT_EQ(refusals[i]["caller"], "alice");
    EXPECT_EQ(refusals[i]["status"], 503);
    EXPECT_EQ(refusals[i]["source"], "opa");
  }
  // The admin's calls need the decision point too: read the node's metrics in process.
  EXPECT_THAT(metrics().render(),
              HasSubstr(R"(sie_policy_decision_point_failures_total{reason="timeout"})"));
}

}  // namespace
}  // namespace sie
