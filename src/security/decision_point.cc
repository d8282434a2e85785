#include "security/decision_point.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/json_text.h"
#include "sie/metrics.h"

namespace sie::security {
namespace {

using Outcome = DecisionAnswer::Outcome;

constexpr std::string_view kDenied = "the external decision point denied it";

void countFailure(std::string_view reason) {
  metrics()
      .counter("sie_policy_decision_point_failures_total",
               "Questions to the external decision point that got no usable answer, by reason "
               "(timeout, unreachable, status, invalid): each refused the request.",
               {{"reason", std::string(reason)}})
      .inc();
}

DecisionAnswer unavailable(std::string_view reason, std::string message) {
  countFailure(reason);
  return {Outcome::kUnavailable, std::move(message)};
}

nlohmann::json nullable(std::string_view text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

}  // namespace

DecisionPoint::DecisionPoint(DecisionPointOptions options, http::BoundedClient client,
                             const Clock& clock)
    : options_(std::move(options)), client_(std::move(client)), clock_(clock) {}

Result<std::unique_ptr<DecisionPoint>> DecisionPoint::make(DecisionPointOptions options,
                                                           const Clock& clock) {
  auto client = SIE_TRY(http::BoundedClient::make(options.url));
  return std::unique_ptr<DecisionPoint>(
      new DecisionPoint(std::move(options), std::move(client), clock));
}

DecisionAnswer DecisionPoint::ask(const DecisionQuestion& question) {
  const std::string body = nlohmann::json{{"input",
                                           {{"subject", question.subject},
                                            {"role", question.role},
                                            {"action", question.action},
                                            {"resource", nullable(question.resource)},
                                            {"method", question.method},
                                            {"path", question.path}}}}
                               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const bool caching = options_.cache_ttl.count() > 0;
  if (caching) {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(body); it != cache_.end()) {
      if (clock_.monotonicNs() < it->second.first) {
        return it->second.second ? DecisionAnswer{Outcome::kAllowed, {}}
                                 : DecisionAnswer{Outcome::kDenied, std::string(kDenied)};
      }
      cache_.erase(it);
    }
  }
  const std::int64_t start = clock_.monotonicNs();
  const auto reply = client_.post(body, options_.timeout, kMaxAnswerBytes);
  metrics()
      .histogram("sie_policy_decision_point_seconds",
                 "Time to the external decision point's answer (or to the failure).")
      .observe(static_cast<double>(clock_.monotonicNs() - start) * 1e-9);
  DecisionAnswer answer = answerOf(reply);
  if (caching && answer.outcome != Outcome::kUnavailable) {
    std::lock_guard lock(mu_);
    if (cache_.size() >= kMaxCached) cache_.clear();  // a bound, not an LRU: answers are cheap
    cache_[body] = {clock_.monotonicNs() + options_.cache_ttl.count(),
                    answer.outcome == Outcome::kAllowed};
  }
  return answer;
}

DecisionAnswer DecisionPoint::answerOf(const Result<http::ClientResponse>& reply) const {
  if (!reply) {
    const bool timeout = reply.error().code == Errc::kTimeout;
    return unavailable(timeout ? "timeout" : "unreachable",
                       "the external decision point gave no answer: " + reply.error().message);
  }
  if (reply->status != 200) {
    return unavailable("status", fmt::format("the external decision point {} answered HTTP {}",
                                             client_.url(), reply->status));
  }
  const auto doc = parseJson(reply->body, 8);
  const auto invalid = [&] {
    return unavailable("invalid",
                       fmt::format("the external decision point {} answered neither "
                                   "{{\"result\": true|false}} nor {{\"result\": {{\"allow\": "
                                   "true|false}}}}",
                                   client_.url()));
  };
  if (!doc || !doc->is_object()) return invalid();
  const auto result = doc->find("result");
  // OPA leaves "result" out for a document its policies do not define: no rule said yes.
  if (result == doc->end()) {
    return {Outcome::kDenied,
            fmt::format("{} (its answer has no result: is {} the path of a defined rule?)", kDenied,
                        client_.url())};
  }
  const nlohmann::json* allow = &*result;
  if (result->is_object()) {
    const auto it = result->find("allow");
    if (it == result->end()) return {Outcome::kDenied, std::string(kDenied)};
    allow = &*it;
  }
  if (!allow->is_boolean()) return invalid();
  if (allow->get<bool>()) return {Outcome::kAllowed, {}};
  return {Outcome::kDenied, std::string(kDenied)};
}

}  // namespace sie::security
