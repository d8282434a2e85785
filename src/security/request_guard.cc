#include "security/request_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/ascii_lower.h"
#include "http/media_type.h"
#include "security/caller_scope.h"
#include "security/pki.h"
#include "security/policy_file.h"
#include "sie/clock.h"
#include "sie/metrics.h"

namespace sie::security {
namespace {

constexpr int kAuditedPerSecond = 20;

// What an HTML form (or a no-cors fetch) can send without a preflight.
bool simpleContentType(std::string_view value) {
  const std::string type = http::mediaType(value);
  return type.empty() || type == "application/x-www-form-urlencoded" ||
         type == "multipart/form-data" || type == "text/plain";
}

void count(std::string_view action, std::string_view outcome) {
  metrics()
      .counter("sie_http_authorization_total",
               "Calls to the node's listener by action and outcome (allowed, denied, "
               "unauthenticated, refused, limited).",
               {{"action", std::string(action)}, {"outcome", std::string(outcome)}})
      .inc();
}

void countDecision(std::string_view action, bool allowed, std::string_view source) {
  metrics()
      .counter("sie_policy_decisions_total",
               "Authorization decisions by action, outcome (allowed, denied) and source (local: "
               "the site's policy or the built-in roles; opa: the external decision point).",
               {{"action", std::string(action)},
                {"outcome", allowed ? "allowed" : "denied"},
                {"source", std::string(source)}})
      .inc();
}

std::string_view kindName(http::ResourceKind kind) {
  return kind == http::ResourceKind::kSensor ? "sensor" : "function";
}

// "function:pump-1" for the audit and the decision point; "" for none or one the body names.
std::string resourceText(const Resource& resource) {
  if (resource.name.empty()) return {};
  return fmt::format("{}:{}", kindName(resource.kind), resource.name);
}

}  // namespace

std::string hostOf(std::string_view authority) {
  // Origin values carry a scheme: "http://host:port".
  if (const auto scheme = authority.find("://"); scheme != std::string_view::npos) {
    authority.remove_prefix(scheme + 3);
  }
  authority = authority.substr(0, authority.find('/'));
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    return close == std::string_view::npos ? std::string()
                                           : asciiLower(authority.substr(1, close - 1));
  }
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    if (std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      authority = authority.substr(0, colon);
    }
  }
  return asciiLower(authority);
}

bool isLoopback(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string h = asciiLower(host);
  if (h == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, h.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

RequestGuard::RequestGuard(GuardOptions options, TokenStore* tokens, AuditLog& audit)
    : options_(std::move(options)),
      tokens_(tokens),
      audit_(audit),
      rates_(options_.calls_per_second, options_.burst, systemClock()) {
  for (std::string& host : options_.hosts) host = hostOf(host);
}

bool RequestGuard::hostAllowed(std::string_view host_header) const {
  const std::string host = hostOf(host_header);
  if (host.empty()) return false;
  if (isLoopback(host)) return true;
  return std::find(options_.hosts.begin(), options_.hosts.end(), host) != options_.hosts.end();
}

std::optional<http::HttpResponse> RequestGuard::admit(http::HttpRequest& request) {
  const std::string route = routePath(request.path);
  const std::optional<Action> action = actionFor(request.method, route);
  const std::string_view action_name = action ? actionName(*action) : "health";
  if (!hostAllowed(request.header("host"))) {
    return refuse(request, 403, "host_not_allowed",
                  fmt::format("this node does not answer to the host name '{}': add it to "
                              "spec.security.hosts if it is this node's",
                              hostOf(request.header("host"))),
                  "", action_name);
  }
  if (request.method == "OPTIONS") {
    return refuse(request, 403, "cors_refused",
                  "this node answers no CORS preflight: call it from a server-side client, the "
                  "sie CLI, or the node's own pages",
                  "", action_name);
  }
  if (const std::string_view origin = request.header("origin");
      !origin.empty() && !hostAllowed(origin)) {
    return refuse(request, 403, "cross_origin",
                  fmt::format("requests from pages of another site ({}) are refused", origin), "",
                  action_name);
  }
  // Credentials a browser sends by itself (none at all, or a client certificate) must not let
  // another site's form act.
  const bool ambient = !options_.authenticate || !request.peer_uri.empty();
  if (ambient && request.method == "POST" && simpleContentType(request.header("content-type")) &&
      request.header("x-sie-request").empty()) {
    return refuse(request, 403, "csrf",
                  "a POST needs a Content-Type such as application/json (not a form's or "
                  "text/plain) or the header 'X-Sie-Request: 1'",
                  "", action_name);
  }
  if (!options_.authenticate) {
    request.caller = "local";
    request.caller_role = std::string(roleName(Role::kAdmin));
    if (auto limited = limitRate(request, action_name)) return limited;
    count(action_name, "allowed");
    return std::nullopt;
  }
  if (!action) {  // the health probes answer anyone
    request.caller = "anonymous";
    count(action_name, "allowed");
    return std::nullopt;
  }
  if (!request.peer_uri.empty()) {
    auto caller =
        callerFromCertificate(request.peer_uri, request.peer_organization, options_.trust_domain);
    if (!caller) return refuse(request, 403, "forbidden", caller.error().message, "", action_name);
    return authorize(request, caller->identity, caller->identity, caller->role, caller->sensors,
                     *action, route);
  }
  const std::string_view authorization = request.header("authorization");
  if (authorization.empty()) {
    auto answer = refuse(request, 401, "unauthenticated",
                         "this node requires a bearer token: send 'Authorization: Bearer "
                         "<token>' (sie token create, or --token on the sie CLI)",
                         "", action_name);
    answer.headers["WWW-Authenticate"] = R"(Bearer realm="sie")";
    return answer;
  }
  const std::string scheme = asciiLower(authorization.substr(0, 7));
  Result<Token> token =
      scheme == "bearer "
          ? tokens_->verify(authorization.substr(7))
          : fail(Errc::kUnauthenticated, "the Authorization header must be 'Bearer <token>'");
  if (!token) {
    auto answer = refuse(request, 401, "unauthenticated", token.error().message, "", action_name);
    answer.headers["WWW-Authenticate"] = R"(Bearer realm="sie", error="invalid_token")";
    return answer;
  }
  return authorize(request, token->identity, "token:" + token->identity, token->role,
                   token->sensors, *action, route);
}

std::optional<http::HttpResponse> RequestGuard::authorize(http::HttpRequest& request,
                                                          const std::string& identity,
                                                          std::string_view subject, Role role,
                                                          const std::string& sensors, Action action,
                                                          std::string_view route) {
  const std::string_view action_name = actionName(action);
  request.caller = identity;
  request.caller_role = std::string(roleName(role));
  const Resource resource = resourceFor(action, route);
  const std::shared_ptr<const Policy> policy =
      options_.policy ? options_.policy->current() : builtInPolicy();
  const Decision decision = policy->decide({subject, role}, action, resource);
  countDecision(action_name, decision.allowed, "local");
  if (!decision.allowed) {
    const std::string named = resource.name.empty() ? "" : fmt::format(" '{}'", resource.name);
    std::string message;
    if (!options_.policy) {
      message = fmt::format(
          "'{}' (role {}) may not {} here; ask an admin for a credential with a role that may",
          identity, roleName(role), action_name);
    } else {
      message = fmt::format("'{}' (role {}) may not {}{}: {}", identity, roleName(role),
                            action_name, named,
                            decision.denied_by ? "the site's policy denies it"
                                               : "no rule of the site's policy allows it; ask an "
                                                 "admin to change the policy");
    }
    nlohmann::json detail{{"source", "local"}, {"policy", policy->source()}};
    if (!resource.name.empty()) detail["resource"] = resourceText(resource);
    if (decision.denied_by) detail["rule"] = decision.denied_by->where;
    return refuse(request, 403, "forbidden", std::move(message), identity, action_name,
                  std::move(detail));
  }
  if (auto refused = limitScope(request, action, sensors, policy, decision, resource)) {
    return refused;
  }
  if (auto limited = limitRate(request, action_name)) return limited;
  if (options_.decision_point) {
    if (auto refused = askDecisionPoint(request, subject, role, action, resource, route)) {
      return refused;
    }
  }
  count(action_name, "allowed");
  return std::nullopt;
}

std::optional<http::HttpResponse> RequestGuard::limitScope(
    http::HttpRequest& request, Action action, const std::string& sensors,
    const std::shared_ptr<const Policy>& policy, const Decision& decision,
    const Resource& resource) {
  const std::string_view action_name = actionName(action);
  CallerScope::Limits limits;
  if (action == Action::kIngest && !sensors.empty()) {
    auto pattern = TopicPattern::parse(sensors);
    if (!pattern) {
      return refuse(
          request, 403, "forbidden",
          fmt::format("the credential's sensor pattern is invalid: {}", pattern.error().message),
          request.caller, action_name);
    }
    limits.credential_sensors = std::move(*pattern);
  }
  if (decision.bound.limits()) {
    limits.policy = policy;
    limits.bound = decision.bound;
    limits.bound_kind = resource.kind;
  }
  if (!limits.credential_sensors && !limits.policy) return std::nullopt;
  // The guard outlives the requests it admitted: the node stops its listener first.
  request.scope = std::make_shared<CallerScope>(
      request.caller, action, std::move(limits),
      [this, caller = request.caller, peer = request.peer, method = request.method,
       path = request.path,
       action_name](const std::string& named, const std::string& reason, const Rule* rule) {
        countDecision(action_name, false, "local");
        nlohmann::json record{{"caller", caller},      {"peer", peer},          {"method", method},
                              {"path", path},          {"action", action_name}, {"status", 403},
                              {"reason", "forbidden"}, {"resource", named},     {"source", "local"},
                              {"detail", reason}};
        if (rule != nullptr) record["rule"] = rule->where;
        audit(std::move(record), true);
      });
  return std::nullopt;
}

std::optional<http::HttpResponse> RequestGuard::askDecisionPoint(const http::HttpRequest& request,
                                                                 std::string_view subject,
                                                                 Role role, Action action,
                                                                 const Resource& resource,
                                                                 std::string_view route) {
  using Outcome = DecisionAnswer::Outcome;
  const std::string_view action_name = actionName(action);
  const std::string named = resourceText(resource);
  const DecisionAnswer answer = options_.decision_point->ask(
      {subject, roleName(role), action_name, named, request.method, route});
  countDecision(action_name, answer.outcome == Outcome::kAllowed, "opa");
  if (answer.outcome == Outcome::kAllowed) return std::nullopt;
  nlohmann::json detail{{"source", "opa"}, {"detail", answer.reason}};
  if (!named.empty()) detail["resource"] = named;
  if (answer.outcome == Outcome::kDenied) {
    return refuse(
        request, 403, "forbidden",
        fmt::format("'{}' (role {}) may not {}{}: {}", request.caller, roleName(role), action_name,
                    resource.name.empty() ? "" : fmt::format(" '{}'", resource.name),
                    answer.reason),
        request.caller, action_name, std::move(detail));
  }
  auto refused = refuse(request, 503, "decision_unavailable",
                        fmt::format("{}; the node refuses what it cannot check", answer.reason),
                        request.caller, action_name, std::move(detail));
  refused.headers["Retry-After"] = "1";
  return refused;
}

void RequestGuard::tlsRefused(const std::string& peer, const std::string& reason) {
  count("tls", "unauthenticated");
  audit(nlohmann::json{{"caller", "anonymous"},
                       {"peer", peer},
                       {"action", "tls"},
                       {"reason", "tls_refused"},
                       {"detail", reason}},
        false);
}

std::optional<http::HttpResponse> RequestGuard::limitRate(const http::HttpRequest& request,
                                                          std::string_view action) {
  double retry_after_s = 0;
  if (rates_.allow(request.caller, retry_after_s)) return std::nullopt;
  count(action, "limited");
  http::HttpResponse answer;
  answer.status = 429;
  answer.headers["Retry-After"] = std::to_string(static_cast<int>(std::ceil(retry_after_s)));
  answer.body = nlohmann::json{{"error", "rate_limited"},
                               {"message", fmt::format("'{}' calls more than {} times a second; "
                                                       "retry after {:.2f} s",
                                                       request.caller, options_.calls_per_second,
                                                       retry_after_s)}}
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return answer;
}

http::HttpResponse RequestGuard::refuse(const http::HttpRequest& request, int status,
                                        std::string_view code, std::string message,
                                        std::string_view caller, std::string_view action,
                                        nlohmann::json detail) {
  const std::string_view outcome =
      status == 401 ? "unauthenticated" : (code == "forbidden" ? "denied" : "refused");
  count(action, outcome);
  nlohmann::json record{{"decision", "deny"},   {"caller", caller.empty() ? "anonymous" : caller},
                        {"peer", request.peer}, {"method", request.method},
                        {"path", request.path}, {"action", action},
                        {"status", status},     {"reason", code}};
  record.update(detail);
  audit(std::move(record), !caller.empty());
  http::HttpResponse answer;
  answer.status = status;
  answer.body = nlohmann::json{{"error", code}, {"message", message}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return answer;
}

void RequestGuard::audit(nlohmann::json body, bool known_caller) {
  std::uint64_t skipped = 0;
  bool record = false;
  {
    std::lock_guard lock(audit_mu_);
    const std::int64_t second = monotonicNs() / 1'000'000'000;
    if (second != audit_second_) {
      audit_second_ = second;
      audited_this_second_ = 0;
    }
    if (known_caller || audited_this_second_ < kAuditedPerSecond) {
      ++audited_this_second_;
      record = true;
      skipped = std::exchange(unaudited_, 0);
    } else {
      ++unaudited_;
    }
  }
  if (record) {
    if (skipped > 0) body["unauditedBefore"] = skipped;
    const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (auto appended = audit_.append("security", "denied", text); !appended) {
      spdlog::error("audit: {}", appended.error().str());
    }
  }
}

}  // namespace sie::security
