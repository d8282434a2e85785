// A small HTTP/1.1 server (Boost.Beast on its own Asio thread) for the node's control endpoints.
// Requests are answered by one handler; Beast stays out of this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "http/query.h"
#include "http/resource_scope.h"
#include "http/tls.h"
#include "sie/result.h"

namespace sie::http {

struct HttpRequest {
  std::string method;
  std::string target;  // path and query
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  // A spooled body (ServerOptions::spool): the file holding it. The handler may move it away;
  // whatever is left there is deleted once the answer is sent.
  std::string body_file;
  std::string peer;    // the client's address and port, "127.0.0.1:53422"
  std::string caller;  // who is calling, as ServerOptions::admit established ("" without it)
  // The caller's role ("admin", "viewer", ...), as admit established ("" without it): reads by
  // callers that are not admins pass the site's API privacy rules.
  std::string caller_role;
  // What the caller may do with the functions and sensors the body names, as admit decided;
  // nullptr for anything.
  std::shared_ptr<const ResourceScope> scope;
  // Over TLS with a verified client certificate: its first URI SAN (the SPIFFE ID) and its O=.
  std::string peer_uri;
  std::string peer_organization;

  // A header's value, or "" when absent; `name` in lower case.
  [[nodiscard]] std::string_view header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string_view() : std::string_view(it->second);
  }
};

// Where a streamed body goes, chunk by chunk.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // false once the client is gone or the server stops: the producer should return.
  virtual bool write(std::string_view chunk) = 0;
  // false once the server stops; producers that wait for data check it at least every 200 ms.
  [[nodiscard]] virtual bool open() const = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;  // extra response headers (Retry-After, ...)
  // Set for a body produced over time (log follow): sent chunked, after `body`, from a thread of
  // its own; the connection closes when it returns.
  std::function<void(StreamWriter&)> stream;
};

// Request bodies sent to paths under `prefix` (uploads) are written to a file in `dir` as they
// arrive instead of memory, up to `max_bytes` each.
struct Spool {
  std::string prefix;
  std::string dir;
  std::uint64_t max_bytes = 0;
};

struct ServerOptions {
  // I/O threads; a handler that blocks holds one unless it is offloaded (below).
  int threads = 1;
  // Runs on each request's header, before a byte of its body is read or spooled: an answer
  // refuses the request (sent, then the connection closes); nullopt lets it through. It may set
  // request.caller, which the handler then sees.
  std::function<std::optional<HttpResponse>(HttpRequest&)> admit;
  std::size_t max_body = std::size_t{1} << 20;  // in memory; larger bodies get 413
  std::optional<Spool> spool;
  // Open connections at most. At the cap a new connection evicts the one that has waited
  // longest for a request header (idle keep-alive, or a slow-loris sender); with none idle it is
  // closed at once. Accepting goes on when the process runs out of descriptors, after a pause.
  std::size_t max_connections = 512;
  // Longest wait for a complete request header (from the first byte or keep-alive idle), and for
  // a TLS handshake.
  std::chrono::milliseconds header_timeout{10'000};
  // Set: the listener speaks TLS 1.3 only. The files are read again when one of them changes
  // (checked every `tls_reload`); new connections get the new ones, open ones keep theirs, and
  // files that do not load leave the last good ones in use.
  // Longest a streamed response's write may wait for the client to take the bytes; then the
  // connection is dropped and the producer told (StreamWriter::write returns false).
  std::chrono::milliseconds write_timeout{10'000};
  // Requests for which this holds (synchronous invocations, deploys) never take the last free
  // I/O thread: up to `threads` - 1 run inline, the others on a pool of `handler_threads`; at
  // most `max_offloaded` run or wait there, more get 503.
  std::function<bool(const HttpRequest&)> offload;
  int handler_threads = 8;
  std::size_t max_offloaded = 256;
  std::optional<TlsServerOptions> tls;
  std::chrono::milliseconds tls_reload{5'000};
  // Told of each TLS handshake refused (no, a foreign, an expired or a revoked certificate):
  // the peer's address and OpenSSL's reason.
  std::function<void(const std::string& peer, const std::string& reason)> on_tls_refused;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  static constexpr int kMaxStreams = 32;  // concurrent streamed responses; more get 429

  // Binds host:port (port 0 picks a free one) and serves in the background.
  static Result<std::unique_ptr<HttpServer>> start(const std::string& host_port, Handler handler,
                                                   ServerOptions options = {});
  // Serves on a TCP socket already bound and listening (made in another network namespace, say);
  // takes it over, and closes it on failure.
  static Result<std::unique_ptr<HttpServer>> serve(int listener, Handler handler,
                                                   ServerOptions options = {});
  virtual ~HttpServer() = default;
  [[nodiscard]] virtual std::uint16_t port() const = 0;
  virtual void stop() = 0;
};

}  // namespace sie::http
