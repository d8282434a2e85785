#include "control/token_api.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/control_api.h"
#include "core/json_text.h"
#include "security/tokens.h"
#include "sie/config.h"

namespace sie::node {
namespace {

// A token's lifetime when the request names none.
constexpr std::string_view kDefaultTtl = "24h";

nlohmann::json tokenJson(const security::Token& t) {
  return {{"id", t.id},
          {"identity", t.identity},
          {"role", security::roleName(t.role)},
          {"createdNs", t.created_ns},
          {"expiresNs", t.expires_ns},
          {"revoked", t.revoked},
          {"sensors", t.sensors}};
}

HttpResponse create(const HttpRequest& r, security::TokenStore& tokens, ControlPlane& plane) {
  auto body = parseJson(r.body);
  if (!body || !body->is_object()) {
    return apiError(400, "invalid_json",
                    R"(the body must be {"identity": NAME, "role": ROLE, "ttl": "8h"})");
  }
  for (const auto& [key, value] : body->items()) {
    if (key != "identity" && key != "role" && key != "ttl" && key != "sensors") {
      return apiError(400, "invalid",
                      fmt::format("unknown field '{}' (known: identity, role, ttl, sensors)", key),
                      key);
    }
    if (!value.is_string()) {
      return apiError(400, "invalid", fmt::format("'{}' must be a string", key), key);
    }
  }
  const auto role = security::parseRole(body->value("role", ""));
  if (!role) {
    return apiError(400, "invalid", fmt::format("'role' must be one of {}", security::roleNames()),
                    "role");
  }
  const auto ttl = parseDuration(body->value("ttl", std::string(kDefaultTtl)));
  if (!ttl) return apiError(400, "invalid", ttl.error().message, "ttl");
  auto issued = tokens.create(body->value("identity", ""), *role,
                              std::chrono::duration_cast<std::chrono::seconds>(*ttl),
                              body->value("sensors", ""));
  if (!issued) {
    const bool sensors = issued.error().message.starts_with("sensors");
    return issued.error().code == Errc::kInvalidArgument
               ? apiError(400, "invalid", issued.error().message, sensors ? "sensors" : "identity")
               : apiError(500, "internal", issued.error().str());
  }
  plane.audit(
      "tokens", "token created", actorOf(r),
      fmt::format("{} for {} (role {}, expires {})", issued->token.id, issued->token.identity,
                  security::roleName(*role),
                  issued->token.expires_ns == 0 ? std::string("never")
                                                : std::to_string(issued->token.expires_ns)));
  nlohmann::json out = tokenJson(issued->token);
  out["token"] = issued->text;
  return json(201, out);
}

}  // namespace

void addTokenRoutes(http::Routes& routes, security::TokenStore& tokens, ControlPlane& plane) {
  security::TokenStore* t = &tokens;
  ControlPlane* p = &plane;
  routes.add("GET", "/api/v1/tokens", [t](const HttpRequest&, const http::PathParams&) {
    auto all = t->list();
    if (!all) return apiError(500, "internal", all.error().str());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& token : *all) out.push_back(tokenJson(token));
    return json(200, {{"tokens", out}});
  });
  routes.add("POST", "/api/v1/tokens",
             [t, p](const HttpRequest& r, const http::PathParams&) { return create(r, *t, *p); });
  routes.add("DELETE", "/api/v1/tokens/{id}",
             [t, p](const HttpRequest& r, const http::PathParams& params) {
               if (auto revoked = t->revoke(params.at("id")); !revoked) {
                 return revoked.error().code == Errc::kNotFound
                            ? apiError(404, "not_found", revoked.error().message)
                            : apiError(500, "internal", revoked.error().str());
               }
               p->audit("tokens", "token revoked", actorOf(r), params.at("id"));
               return json(200, {{"revoked", params.at("id")}});
             });
}

}  // namespace sie::node
