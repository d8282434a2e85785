// The blocking HTTP/1.1 client (Boost.Beast; TLS 1.3 for https) of the CLI and the node: one
// request per call on a fresh connection (callbacks, the CLI), a streamed body read line by line
// (log follow), or a keep-alive Connection to one endpoint (webhook sinks).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "http/networks.h"
#include "http/tls.h"
#include "sie/result.h"

namespace sie::http {

struct Url {
  bool tls = false;  // https://
  std::string host;
  std::string port = "80";   // 443 for https
  std::string target = "/";  // path and query
};

// "http[s]://host[:port][/path]"; an IPv6 host in brackets ("http://[::1]:8080/").
Result<Url> parseUrl(std::string_view url);
// The Host header for `host` and `port`: "10.0.0.5:8443", "[::1]:8080".
std::string hostHeader(std::string_view host, std::string_view port);

// The TLS settings of https:// calls, loaded once and shared by calls on any thread.
class ClientTls {
 public:
  using Ptr = std::shared_ptr<const ClientTls>;
  static Result<Ptr> load(const TlsClientOptions& options);
  [[nodiscard]] ssl_ctx_st* context() const { return ctx_.get(); }

 private:
  explicit ClientTls(SslCtx ctx) : ctx_(std::move(ctx)) {}
  SslCtx ctx_;
};

struct ClientResponse {
  int status = 0;
  std::string content_type;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds timeout{30'000};
  // For https:// URLs: whom to trust and the client certificate; nullptr: the system's CAs and
  // no certificate. The server's name (or address) must be in its certificate either way.
  std::shared_ptr<const ClientTls> tls;
  // Set: the call connects only to addresses in these networks (checked after name resolution,
  // so a name that resolves elsewhere is refused too).
  std::shared_ptr<const NetworkList> allowed_networks;
};

Result<ClientResponse> send(const ClientRequest& request);

// Bytes sent so far of the total, for a progress display.
using Progress = std::function<void(std::uint64_t sent, std::uint64_t total)>;

// Sends the file at `path` as the body (request.body is ignored), in blocks, after the server's
// "100 Continue": a refusal comes back before the bytes go.
Result<ClientResponse> sendFile(const ClientRequest& request, const std::string& path,
                                const Progress& on_progress = {});

// Sends the request and calls `on_line` for each line of the body as it arrives, until the
// server ends it or on_line returns false. Non-2xx answers are returned whole, without calls.
Result<ClientResponse> sendStreaming(const ClientRequest& request,
                                     const std::function<bool(std::string_view line)>& on_line);

// A keep-alive connection to one endpoint, for one thread: requests go one after another on it,
// opened on the first and again after the server closed it (a request on a kept-alive connection
// that fails is sent once more on a fresh one). Closed on destruction.
class Connection {
 public:
  // `endpoint`: where every request goes (its target included); `tls` as ClientRequest::tls.
  Connection(Url endpoint, ClientTls::Ptr tls, std::chrono::milliseconds timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `request`'s method, body, content type and headers (its url, tls and timeout are the
  // connection's); an error is a connection that failed, any HTTP status an answer.
  Result<ClientResponse> send(const ClientRequest& request);
  void close();

 private:
  struct Open;
  Url endpoint_;
  ClientTls::Ptr tls_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Open> open_;
};

}  // namespace sie::http
