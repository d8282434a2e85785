// An external decision point that speaks OPA's REST Data API (spec.security.opa). The guard asks
// it after the local policy allowed a request; both must allow. The question is
//
//   POST <url>  {"input": {"subject": "spiffe://plant-a/client/alice", "role": "operator",
//                          "action": "deploy", "resource": "function:pump-1" | null,
//                          "method": "PUT", "path": "/api/v1/functions/pump-1"}}
//
// and the request is allowed iff the answer is {"result": true} or {"result": {"allow": true}}.
// It fails closed: false, or no result (an undefined document), is a denial; a timeout, a failed
// connection, a status other than 200 or any other body is "unavailable", also a refusal.
// Answers (not failures) may be cached for `cache_ttl`.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/bounded_client.h"
#include "sie/clock.h"
#include "sie/result.h"

namespace sie::security {

struct DecisionPointOptions {
  std::string url;  // http://127.0.0.1:8181/v1/data/sie/allow
  // The longest a request waits for the answer (connect, send, wait, read): the listener's
  // thread is held that long at most.
  std::chrono::milliseconds timeout{50};
  std::chrono::nanoseconds cache_ttl{0};  // 0: ask for every request
};

struct DecisionQuestion {
  std::string_view subject;
  std::string_view role;
  std::string_view action;
  std::string_view resource;  // "function:pump-1"; "" sends null (none, or named in the body)
  std::string_view method;
  std::string_view path;
};

struct DecisionAnswer {
  enum class Outcome : std::uint8_t { kAllowed, kDenied, kUnavailable };
  Outcome outcome = Outcome::kUnavailable;
  std::string reason;  // why not, for the caller and the audit
};

class DecisionPoint {
 public:
  static constexpr std::size_t kMaxAnswerBytes = 64 * 1024;
  static constexpr std::size_t kMaxCached = 4096;

  // Resolves the URL's host now. `clock` must outlive the decision point.
  static Result<std::unique_ptr<DecisionPoint>> make(DecisionPointOptions options,
                                                     const Clock& clock);

  // Thread-safe; blocks for at most options.timeout.
  DecisionAnswer ask(const DecisionQuestion& question);

 private:
  DecisionPoint(DecisionPointOptions options, http::BoundedClient client, const Clock& clock);
  [[nodiscard]] DecisionAnswer answerOf(const Result<http::ClientResponse>& reply) const;

  DecisionPointOptions options_;
  http::BoundedClient client_;
  const Clock& clock_;
  std::mutex mu_;
  // The question's JSON -> (monotonic expiry, allowed).
  std::unordered_map<std::string, std::pair<std::int64_t, bool>> cache_;
};

}  // namespace sie::security
