// ControlApi: the node's REST API for operators, on the node's HTTP listener (api/openapi.yaml):
// deploy, update, delete, list and describe functions and their versions; sync and async invoke;
// scale; logs (tail and follow, NDJSON); readings query; readiness. The OpenFaaS gateway's routes
// (openfaas_api.h) are served beside it. Errors are JSON: {"error": code, "message", "field",
// "where"}, with field and where when the request names them.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "control/async_calls.h"
#include "control/control_plane.h"
#include "control/function_logs.h"
#include "http/routes.h"
#include "sie/clock.h"

namespace sie::security {
class TokenStore;
}

namespace sie::node {

using http::HttpRequest;
using http::HttpResponse;

// A JSON answer; text that is not UTF-8 is replaced, never thrown on.
HttpResponse json(int status, const nlohmann::json& body);

// Who made a change, for the audit: the caller the request guard established.
std::string actorOf(const HttpRequest& request);

// A JSON error answer.
HttpResponse apiError(int status, std::string_view code, const std::string& message,
                      const std::string& field = {}, const std::string& where = {});

// A refused control call as its status code and JSON error.
HttpResponse controlError(const ControlError& error);

// The 403 when the function the request's body names is one its caller may not act on (the
// scope the request guard set on it); nullopt when it may.
std::optional<HttpResponse> outsideScope(const HttpRequest& request, std::string_view function);

class ControlApi {
 public:
  // `running`: whether the node runs (readiness and invocations). `tokens`, when given, is
  // managed through /api/v1/tokens. `callbacks` governs async calls' callback URLs.
  ControlApi(ControlPlane& plane, StateStore& state, const Clock& clock,
             std::function<bool()> running, security::TokenStore* tokens = nullptr,
             CallbackPolicy callbacks = {});
  ~ControlApi();
  ControlApi(const ControlApi&) = delete;
  ControlApi& operator=(const ControlApi&) = delete;

  // nullopt when the path is none of the listener's.
  [[nodiscard]] std::optional<HttpResponse> handle(const HttpRequest& request) const;
  // A route of the node's own (health, metrics, ingest, status) in the listener's one table.
  void add(std::string method, std::string pattern, http::Routes::Handler handler) {
    routes_.add(std::move(method), std::move(pattern), std::move(handler));
  }
  // (method, path template) of every route served, ours and OpenFaaS's.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> routes() const {
    return routes_.list();
  }
  // Finishes queued async calls; later ones are refused.
  void stop() { async_.stop(); }

  // Shared with the OpenFaaS routes. `path_name`: the name in PUT /api/v1/functions/{name},
  // which the manifest's must match ("" for none).
  HttpResponse deploy(DeployRequest request, const std::string& path_name) const;
  // `actor`: who asks, for the audit (actorOf).
  HttpResponse remove(const std::string& name, bool reset, const std::string& actor) const;
  // `patch` holds min, max, replicas, targetConcurrency (any of them).
  HttpResponse scale(const std::string& name, const nlohmann::json& patch,
                     const std::string& actor) const;
  // A reading from the body through the function; async: 202 and a call id.
  HttpResponse invoke(const std::string& name, const HttpRequest& request, bool async,
                      const std::string& callback) const;
  [[nodiscard]] nlohmann::json summary(const FunctionRunner& runner) const;
  [[nodiscard]] ControlPlane& plane() const { return plane_; }

 private:
  void addRoutes();
  HttpResponse list() const;
  HttpResponse describe(const std::string& name) const;
  HttpResponse logs(const std::string& name, const HttpRequest& request) const;
  HttpResponse readings(const HttpRequest& request) const;
  HttpResponse ready() const;
  HttpResponse rolloutStatus(const std::string& name) const;
  void addKeyRoutes();
  HttpResponse rolloutChange(const std::string& name, const std::string& body,
                             const std::string& actor) const;
  std::string nextCallId() const;

  ControlPlane& plane_;
  StateStore& state_;
  const Clock& clock_;
  std::function<bool()> running_;
  mutable AsyncCalls async_;
  std::string run_token_;  // call ids never repeat across restarts
  mutable std::atomic<std::uint64_t> calls_{0};
  http::Routes routes_;
};

}  // namespace sie::node
