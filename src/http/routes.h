// Routes: method + path template ("/api/v1/functions/{name}") -> handler, for the node's APIs.
// A path that matches a template with another method is answered 405 with the allowed methods.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/http_server.h"

namespace sie::http {

using PathParams = std::map<std::string, std::string>;

class Routes {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&, const PathParams&)>;

  void add(std::string method, std::string pattern, Handler handler);
  // nullopt when no template matches the path.
  [[nodiscard]] std::optional<HttpResponse> dispatch(const HttpRequest& request) const;
  // (method, template) of every route, in the order added.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> list() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool match(const Route& route, const std::vector<std::string_view>& path, PathParams& out);

  std::vector<Route> routes_;
};

}  // namespace sie::http
