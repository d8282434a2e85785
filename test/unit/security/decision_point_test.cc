// The external decision point, against a small server answering like OPA's REST Data API: it
// allows only on {"result": true} or {"result": {"allow": true}}, fails closed on anything else,
// and never waits longer than its timeout.
#include "security/decision_point.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/http_server.h"

namespace sie::security {
namespace {

using Outcome = DecisionAnswer::Outcome;
using ::testing::HasSubstr;

constexpr DecisionQuestion kQuestion{.subject = "spiffe://plant-a/client/alice",
                                     .role = "operator",
                                     .action = "deploy",
                                     .resource = "function:pump-1",
                                     .method = "PUT",
                                     .path = "/api/v1/functions/pump-1"};

class DecisionPointTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) server_->stop();
  }

  // A server that answers `body` with `status` after `delay`, keeping the last input it got.
  std::string serve(std::string body, int status = 200,
                    std::chrono::milliseconds delay = std::chrono::milliseconds(0)) {
    auto started = http::HttpServer::start(
        "127.0.0.1:0",
        [this, body = std::move(body), status, delay](const http::HttpRequest& r) {
          ++asked_;
          {
            std::lock_guard lock(mu_);
            last_input_ = nlohmann::json::parse(r.body, nullptr, false);
          }
          std::this_thread::sleep_for(delay);
          return http::HttpResponse{status, "application/json", body, {}};
        },
        {.threads = 2});
    EXPECT_TRUE(started) << started.error().str();
    server_ = std::move(*started);
    return fmt::format("http://127.0.0.1:{}/v1/data/sie/allow", server_->port());
  }

  std::unique_ptr<DecisionPoint> make(
      const std::string& url, std::chrono::milliseconds timeout = std::chrono::milliseconds(200),
      std::chrono::nanoseconds ttl = {}) {
    auto made =
        DecisionPoint::make({.url = url, .timeout = timeout, .cache_ttl = ttl}, systemClock());
    EXPECT_TRUE(made) << made.error().str();
    return made ? std::move(*made) : nullptr;
  }

  std::unique_ptr<http::HttpServer> server_;
  std::atomic<int> asked_{0};
  std::mutex mu_;
  nlohmann::json last_input_;
};

TEST_F(DecisionPointTest, AllowsOnlyOnATrueResult) {
  for (const char* body : {R"({"result": true})", R"({"result": {"allow": true, "why": "x"}})"}) {
    SCOPED_TRACE(body);
    auto point = make(serve(body));
    EXPECT_EQ(point->ask(kQuestion).outcome, Outcome::kAllowed);
    server_->stop();
  }
  std::lock_guard lock(mu_);
  EXPECT_EQ(last_input_, nlohmann::json::parse(R"({"input": {
      "subject": "spiffe://plant-a/client/alice", "role": "operator", "action": "deploy",
      "resource": "function:pump-1", "method": "PUT", "path": "/api/v1/functions/pump-1"}})"));
}

TEST_F(DecisionPointTest, ANoOrAnUndefinedDocumentIsADenial) {
  for (const char* body :
       {R"({"result": false})", R"({"result": {"allow": false}})", R"({"result": {}})", R"({})"}) {
    SCOPED_TRACE(body);
    auto point = make(serve(body));
    const DecisionAnswer answer = point->ask(kQuestion);
    EXPECT_EQ(answer.outcome, Outcome::kDenied);
    EXPECT_THAT(answer.reason, HasSubstr("the external decision point denied it"));
    server_->stop();
  }
}

TEST_F(DecisionPointTest, GarbageErrorsAndSilenceFailClosed) {
  for (const auto& [body, status] : std::vector<std::pair<std::string, int>>{
           {R"({"result": "yes"})", 200},
           {R"({"result": 1})", 200},
           {R"([true])", 200},
           {"true", 200},
           {"<html>502 Bad Gateway</html>", 200},
           {std::string(10'000, '['), 200},
           {std::string(DecisionPoint::kMaxAnswerBytes + 10, ' '), 200},
           {R"({"result": true})", 500},
       }) {
    SCOPED_TRACE(body.substr(0, 40) + " " + std::to_string(status));
    auto point = make(serve(body, status));
    EXPECT_EQ(point->ask(kQuestion).outcome, Outcome::kUnavailable);
    server_->stop();
  }
  // Nobody listening.
  const std::string url = serve("{}");
  server_->stop();
  auto point = make(url);
  const DecisionAnswer refused = point->ask(kQuestion);
  EXPECT_EQ(refused.outcome, Outcome::kUnavailable);
  EXPECT_THAT(refused.reason, HasSubstr("gave no answer"));
}

TEST_F(DecisionPointTest, AHangingServerHoldsACallerNoLongerThanTheTimeout) {
  auto point = make(serve(R"({"result": true})", 200, std::chrono::milliseconds(1000)),
                    std::chrono::milliseconds(50));
  const auto start = std::chrono::steady_clock::now();
  const DecisionAnswer answer = point->ask(kQuestion);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(answer.outcome, Outcome::kUnavailable);
  EXPECT_THAT(answer.reason, HasSubstr("did not answer within 50 ms"));
  EXPECT_LT(waited, std::chrono::milliseconds(500));
}

TEST_F(DecisionPointTest, AnswersAreReusedForTheirTimeToLive) {
  auto point =
      make(serve(R"({"result": true})"), std::chrono::milliseconds(200), std::chrono::seconds(60));
  EXPECT_EQ(point->ask(kQuestion).outcome, Outcome::kAllowed);
  EXPECT_EQ(point->ask(kQuestion).outcome, Outcome::kAllowed);
  EXPECT_EQ(asked_, 1);
  DecisionQuestion other = kQuestion;
  other.resource = "";  // sent as null: another question
  EXPECT_EQ(point->ask(other).outcome, Outcome::kAllowed);
  EXPECT_EQ(asked_, 2);
  std::lock_guard lock(mu_);
  EXPECT_TRUE(last_input_["input"]["resource"].is_null());
}

TEST_F(DecisionPointTest, OnlyPlainHttpUrlsAreAccepted) {
  EXPECT_FALSE(
      DecisionPoint::make({.url = "https://127.0.0.1:8181/v1/data/sie/allow"}, systemClock()));
  EXPECT_FALSE(DecisionPoint::make({.url = "127.0.0.1:8181"}, systemClock()));
}

}  // namespace
}  // namespace sie::security
