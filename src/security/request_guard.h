// RequestGuard: the check every call to the node's listener passes before its body is read and
// before any handler runs (deny by default):
//   1. Host names this node (a loopback name, the listener's address or spec.security.hosts):
//      a DNS-rebinding page cannot reach it under a name of its own.
//   2. No CORS: preflights are refused, and a request whose Origin is another site is refused.
//   3. Without authentication (an insecure loopback-only node) a POST needs a content type no
//      HTML form can send, or the header X-Sie-Request, so a cross-site form cannot act.
//   4. Authentication: a verified client certificate (its SPIFFE ID, pki.h), else a bearer token
//      (tokens.h); the caller's identity goes on the request. Browsers send certificates on
//      their own, so certificate callers' POSTs also pass rule 3.
//   5. Authorization: the site's policy (policy.h; the built-in roles without a policy file)
//      decides the caller's action (access.h) on the route's resource. A resource the body names
//      (an ingest's sensors, a deploy's function) is checked once it is read: the request carries
//      what it may be (caller_scope.h), bounded also by the sensors the credential names.
//   6. A rate per caller (rate_limiter.h): over it, 429 with Retry-After.
//   7. With an external decision point (decision_point.h), it must allow the request too; when it
//      cannot answer in time, the request is refused (503).
// Every outcome is counted, and every policy decision; refusals of known callers, and of unknown
// ones up to a rate, are audited with who asked for what.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/http_server.h"
#include "security/access.h"
#include "security/decision_point.h"
#include "security/policy.h"
#include "security/policy_store.h"
#include "security/rate_limiter.h"
#include "security/tokens.h"
#include "sie/state.h"

namespace sie::security {

struct GuardOptions {
  // false only for an insecure loopback-only node: every caller is "local" with role admin.
  bool authenticate = true;
  // Names the Host header may carry besides localhost, 127.0.0.1, [::1] and the listener's own
  // address (without the port).
  std::vector<std::string> hosts;
  // Calls per second per caller after a burst; 0: no limit.
  double calls_per_second = 2000;
  double burst = 4000;
  // The trust domain client certificates must be in ("plant-a"); "" when the listener has no TLS.
  std::string trust_domain;
  // The site's policy file; null: the built-in roles (policy_file.h).
  std::shared_ptr<PolicyStore> policy;
  // Asked once the local policy allowed a request; null: none.
  std::shared_ptr<DecisionPoint> decision_point;
};

class RequestGuard {
 public:
  // `tokens` may be null when `options.authenticate` is false. `audit` must outlive the guard.
  RequestGuard(GuardOptions options, TokenStore* tokens, AuditLog& audit);

  // nullopt lets the request through with request.caller set; otherwise the refusal to send.
  std::optional<http::HttpResponse> admit(http::HttpRequest& request);

  [[nodiscard]] const std::string& trustDomain() const { return options_.trust_domain; }

  // A TLS handshake the listener refused (ServerOptions::on_tls_refused): counted and audited.
  void tlsRefused(const std::string& peer, const std::string& reason);

 private:
  [[nodiscard]] bool hostAllowed(std::string_view host_header) const;
  // Appends a refusal to the audit: always for a known caller, else at most
  // kAuditedPerSecond a second (the skipped ones are counted in the next record).
  void audit(nlohmann::json body, bool known_caller);
  // The answer to a refused request, counted and audited; `detail` adds to the audit record.
  http::HttpResponse refuse(const http::HttpRequest& request, int status, std::string_view code,
                            std::string message, std::string_view caller, std::string_view action,
                            nlohmann::json detail = nlohmann::json::object());

  // The authenticated caller (`subject`: its SPIFFE ID or "token:<identity>") against the
  // policy, then its rate, then the external decision point. `route`: routePath(request.path).
  std::optional<http::HttpResponse> authorize(http::HttpRequest& request,
                                              const std::string& identity, std::string_view subject,
                                              Role role, const std::string& sensors, Action action,
                                              std::string_view route);
  // What the body may name (CallerScope), when the credential or the decision limits it.
  std::optional<http::HttpResponse> limitScope(http::HttpRequest& request, Action action,
                                               const std::string& sensors,
                                               const std::shared_ptr<const Policy>& policy,
                                               const Decision& decision, const Resource& resource);
  std::optional<http::HttpResponse> askDecisionPoint(const http::HttpRequest& request,
                                                     std::string_view subject, Role role,
                                                     Action action, const Resource& resource,
                                                     std::string_view route);
  // The caller (request.caller set) within its rate, or the 429 to send.
  std::optional<http::HttpResponse> limitRate(const http::HttpRequest& request,
                                              std::string_view action);

  GuardOptions options_;
  TokenStore* tokens_;
  AuditLog& audit_;
  RateLimiter rates_;
  // Audit records of refusals per second, so a flood cannot fill the disk through the audit.
  std::mutex audit_mu_;
  std::int64_t audit_second_ = 0;
  int audited_this_second_ = 0;
  std::uint64_t unaudited_ = 0;
};

// The host part of a Host or Origin value, lower case, without port or IPv6 brackets.
std::string hostOf(std::string_view authority);
// Whether `host` (without a port; IPv6 in brackets or not) is a loopback address or localhost.
bool isLoopback(std::string_view host);

}  // namespace sie::security
