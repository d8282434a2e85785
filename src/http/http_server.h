// A small HTTP/1.1 server (Boost.Beast on its own Asio thread) for the node's control endpoints.
// Requests are answered by one handler; Beast stays out of this header.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "sie/result.h"

namespace sie::http {

struct HttpRequest {
  std::string method;
  std::string target;  // path and query
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  // A header's value, or "" when absent; `name` in lower case.
  [[nodiscard]] std::string_view header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string_view() : std::string_view(it->second);
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;  // extra response headers (Retry-After, ...)
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  static constexpr std::size_t kMaxBodyBytes = 1 << 20;

  // Binds host:port (port 0 picks a free one) and serves on a background thread.
  static Result<std::unique_ptr<HttpServer>> start(const std::string& host_port, Handler handler);
  virtual ~HttpServer() = default;
  [[nodiscard]] virtual std::uint16_t port() const = 0;
  virtual void stop() = 0;
};

// "a=1&b=x%20y" -> {a: 1, b: "x y"}
std::map<std::string, std::string> parseQuery(std::string_view query);

}  // namespace sie::http
