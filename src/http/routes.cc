#include "http/routes.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sie::http {
namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

}  // namespace

void Routes::add(std::string method, std::string pattern, Handler handler) {
  Route route{std::move(method), std::move(pattern), {}, std::move(handler)};
  for (auto segment : split(route.pattern)) route.segments.emplace_back(segment);
  routes_.push_back(std::move(route));
}

bool Routes::match(const Route& route, const std::vector<std::string_view>& path, PathParams& out) {
  if (route.segments.size() != path.size()) return false;
  PathParams params;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::string& want = route.segments[i];
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      if (path[i].empty()) return false;
      params[want.substr(1, want.size() - 2)] = std::string(path[i]);
    } else if (want != path[i]) {
      return false;
    }
  }
  out = std::move(params);
  return true;
}

std::optional<HttpResponse> Routes::dispatch(const HttpRequest& request) const {
  const auto path = split(request.path);
  std::string allowed;
  for (const Route& route : routes_) {
    PathParams params;
    if (!match(route, path, params)) continue;
    const bool head = request.method == "HEAD" && route.method == "GET";
    if (route.method == request.method || head) return route.handler(request, params);
    allowed += (allowed.empty() ? "" : ", ") + route.method;
  }
  if (allowed.empty()) return std::nullopt;
  const nlohmann::json body{{"error", "method_not_allowed"},
                            {"message", fmt::format("{} {} is not supported; use {}",
                                                    request.method, request.path, allowed)}};
  HttpResponse response{405,
                        "application/json",
                        body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        {{"Allow", allowed}}};
  return response;
}

std::vector<std::pair<std::string, std::string>> Routes::list() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Route& route : routes_) out.emplace_back(route.method, route.pattern);
  return out;
}

}  // namespace sie::http
