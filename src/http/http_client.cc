#include "http/http_client.h"

#include <charconv>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/ssl.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/ascii_lower.h"

namespace sie::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

// One connection, plain or TLS; with() hands either stream to a generic operation. Not in the
// anonymous namespace: Connection keeps one.
struct Exchange {
  asio::io_context io;
  std::optional<asio::ssl::context> tls_context;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  template <class Operation>
  auto with(Operation&& operation) {
    return secure ? operation(*secure) : operation(*plain);
  }
};

namespace {

Status handshake(Exchange& x, const ClientRequest& request, const Url& url) {
  SSL_CTX* shared = request.tls ? request.tls->context() : nullptr;
  if (shared == nullptr) {
    static const auto system_default = ClientTls::load({});
    if (!system_default) return tl::unexpected(system_default.error());
    shared = (*system_default)->context();
  }
  SSL_CTX_up_ref(shared);  // the asio context below owns one reference
  x.tls_context.emplace(shared);
  x.secure.emplace(std::move(*x.plain), *x.tls_context);
  x.plain.reset();
  SSL* ssl = x.secure->native_handle();
  SIE_CHECK(expectServerName(ssl, url.host));
  beast::error_code ec;
  x.secure->handshake(asio::ssl::stream_base::client, ec);
  if (ec) {
    return fail(Errc::kUnauthenticated, fmt::format("TLS with {}:{} failed: {}", url.host, url.port,
                                                    handshakeFailure(ssl, ec.message())));
  }
  return ok();
}

Status connect(Exchange& x, const ClientRequest& request, const Url& url) {
  beast::error_code ec;
  tcp::resolver resolver(x.io);
  auto endpoints = resolver.resolve(url.host, url.port, ec);
  x.plain.emplace(x.io);
  if (!ec && request.allowed_networks) {
    std::vector<tcp::endpoint> allowed;
    std::string seen;
    for (const auto& entry : endpoints) {
      const std::string address = entry.endpoint().address().to_string();
      if (request.allowed_networks->contains(address)) {
        allowed.push_back(entry.endpoint());
      } else {
        seen += (seen.empty() ? "" : ", ") + address;
      }
    }
    if (allowed.empty()) {
      return fail(Errc::kPermissionDenied,
                  fmt::format("{} ({}) is outside the networks this node may call ({}); see "
                              "spec.security.callbackNetworks",
                              url.host, seen, fmt::join(request.allowed_networks->text(), ", ")));
    }
    x.plain->expires_after(request.timeout);
    x.plain->connect(allowed, ec);
  } else if (!ec) {
    x.plain->expires_after(request.timeout);
    x.plain->connect(endpoints, ec);
  }
  if (ec) {
    return fail(Errc::kIo,
                fmt::format("cannot connect to {}:{}: {}", url.host, url.port, ec.message()));
  }
  // Requests are written whole; on a kept-alive connection Nagle would hold the next one back.
  x.plain->socket().set_option(tcp::no_delay(true), ec);
  if (url.tls) return handshake(x, request, url);
  return ok();
}

template <typename Body>
void setHeaders(bhttp::request<Body>& req, const ClientRequest& request, const Url& url,
                bool keep_alive = false) {
  req.set(bhttp::field::host, hostHeader(url.host, url.port));
  req.set(bhttp::field::user_agent, "sie");
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    req.set(bhttp::field::content_type, request.content_type);
  }
  for (const auto& [name, value] : request.headers) req.set(name, value);
  req.keep_alive(keep_alive);
}

// Writes `request` on the connected exchange.
Status write(Exchange& x, const ClientRequest& request, const Url& url, bool keep_alive) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(request.method), url.target, 11};
  setHeaders(req, request, url, keep_alive);
  req.body() = request.body;
  req.prepare_payload();
  beast::error_code ec;
  x.lowest().expires_after(request.timeout);
  x.with([&](auto& stream) { bhttp::write(stream, req, ec); });
  if (ec)
    return fail(Errc::kIo, fmt::format("{} {}: {}", request.method, request.url, ec.message()));
  return ok();
}

Status open(Exchange& x, const ClientRequest& request, const Url& url) {
  SIE_CHECK(connect(x, request, url));
  return write(x, request, url, false);
}

template <typename Fields>
void copyHeaders(const Fields& fields, ClientResponse& out) {
  for (const auto& field : fields) {
    const auto name = field.name_string();
    out.headers[asciiLower(std::string_view(name.data(), name.size()))] =
        std::string(field.value());
  }
  auto it = out.headers.find("content-type");
  if (it != out.headers.end()) out.content_type = it->second;
}

}  // namespace

Result<ClientTls::Ptr> ClientTls::load(const TlsClientOptions& options) {
  SslCtx ctx = SIE_TRY(makeClientTls(options));
  return Ptr(new ClientTls(std::move(ctx)));
}

std::string hostHeader(std::string_view host, std::string_view port) {
  const bool ipv6 = host.find(':') != std::string_view::npos;
  return ipv6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

Result<Url> parseUrl(const std::string_view url) {
  Url out;
  std::string_view rest = url;
  if (url.starts_with("https://")) {
    out.tls = true;
    out.port = "443";
    rest.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return fail(Errc::kInvalidArgument, fmt::format("'{}' is not an http:// or https:// URL (e.g. "
                                                    "https://10.0.0.5:8443)",
                                                    url));
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) out.target = std::string(rest.substr(slash));
  const auto colon = authority.rfind(':');
  // A colon inside brackets belongs to an IPv6 address ([::1], [::1]:8080).
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    int value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("'{}': the port must be a number from 1 to 65535", url));
    }
    out.port = std::string(port);
    authority = authority.substr(0, colon);
  }
  if (authority.starts_with('[')) {
    if (authority.size() < 3 || !authority.ends_with(']')) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("'{}': an IPv6 host goes in brackets, e.g. http://[::1]:8080/", url));
    }
    authority = authority.substr(1, authority.size() - 2);
  }
  if (authority.empty()) return fail(Errc::kInvalidArgument, fmt::format("'{}' has no host", url));
  out.host = std::string(authority);
  return out;
}

Result<ClientResponse> readResponse(Exchange& x, const ClientRequest& request,
                                    bhttp::response_parser<bhttp::string_body>& parser) {
  parser.body_limit(64 << 20);
  beast::error_code ec;
  x.with([&](auto& stream) { bhttp::read(stream, x.buffer, parser, ec); });
  // A server may close a TLS connection without close_notify once the answer is complete.
  if (ec == asio::ssl::error::stream_truncated && parser.is_done()) ec = {};
  if (ec)
    return fail(Errc::kIo, fmt::format("{} {}: {}", request.method, request.url, ec.message()));
  ClientResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  copyHeaders(parser.get(), out);
  out.body = std::move(parser.get().body());
  return out;
}

Result<ClientResponse> send(const ClientRequest& request) {
  const Url url = SIE_TRY(parseUrl(request.url));
  Exchange x;
  SIE_CHECK(open(x, request, url));
  bhttp::response_parser<bhttp::string_body> parser;
  return readResponse(x, request, parser);
}

Result<ClientResponse> sendFile(const ClientRequest& request, const std::string& path,
                                const Progress& on_progress) {
  const Url url = SIE_TRY(parseUrl(request.url));
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  std::error_code size_ec;
  const std::uint64_t total = std::filesystem::file_size(path, size_ec);
  if (!file || size_ec) return fail(Errc::kNotFound, fmt::format("cannot read {}", path));
  Exchange x;
  SIE_CHECK(connect(x, request, url));
  bhttp::request<bhttp::empty_body> req{bhttp::string_to_verb(request.method), url.target, 11};
  setHeaders(req, request, url);
  req.content_length(total);
  // The node answers a refusal (too large, bad name) before the bytes are sent.
  req.set(bhttp::field::expect, "100-continue");
  const auto failed = [&](const beast::error_code& ec) {
    return fail(Errc::kIo, fmt::format("{} {}: {}", request.method, request.url, ec.message()));
  };
  beast::error_code ec;
  bhttp::request_serializer<bhttp::empty_body> serializer{req};
  x.with([&](auto& stream) { bhttp::write_header(stream, serializer, ec); });
  if (ec) return failed(ec);
  {
    bhttp::response_parser<bhttp::string_body> interim;
    x.with([&](auto& stream) { bhttp::read_header(stream, x.buffer, interim, ec); });
    if (ec) return failed(ec);
    if (interim.get().result() != bhttp::status::continue_) {
      return readResponse(x, request, interim);
    }
  }
  std::vector<char> block(256 * 1024);
  std::uint64_t sent = 0;
  if (on_progress) on_progress(sent, total);
  while (sent < total) {
    const std::size_t n = std::fread(block.data(), 1, block.size(), file.get());
    if (n == 0) return fail(Errc::kIo, fmt::format("{} ended early while sending it", path));
    x.lowest().expires_after(request.timeout);
    x.with([&](auto& stream) { asio::write(stream, asio::buffer(block.data(), n), ec); });
    if (ec) return failed(ec);
    sent += n;
    if (on_progress) on_progress(sent, total);
  }
  x.lowest().expires_after(request.timeout);
  bhttp::response_parser<bhttp::string_body> parser;
  return readResponse(x, request, parser);
}

Result<ClientResponse> sendStreaming(const ClientRequest& request,
                                     const std::function<bool(std::string_view line)>& on_line) {
  const Url url = SIE_TRY(parseUrl(request.url));
  Exchange x;
  SIE_CHECK(open(x, request, url));
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // a follow has no end
  beast::error_code ec;
  x.lowest().expires_never();
  x.with([&](auto& stream) { bhttp::read_header(stream, x.buffer, parser, ec); });
  if (ec)
    return fail(Errc::kIo, fmt::format("{} {}: {}", request.method, request.url, ec.message()));
  ClientResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  copyHeaders(parser.get(), out);
  const bool success = out.status >= 200 && out.status < 300;
  std::string pending;
  char chunk[4096];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    // What arrived, not a full buffer.
    x.with([&](auto& stream) { bhttp::read_some(stream, x.buffer, parser, ec); });
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) break;
    const std::size_t n = sizeof chunk - parser.get().body().size;
    if (!success) {
      out.body.append(chunk, n);
      continue;
    }
    pending.append(chunk, n);
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!on_line(std::string_view(pending).substr(start, nl - start))) return out;
    }
    pending.erase(0, start);
  }
  if (success && !pending.empty()) on_line(pending);
  return out;
}

struct Connection::Open {
  Exchange x;
};

Connection::Connection(Url endpoint, ClientTls::Ptr tls, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), tls_(std::move(tls)), timeout_(timeout) {}

Connection::~Connection() { close(); }

void Connection::close() {
  if (!open_) return;
  beast::error_code ignored;
  open_->x.lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  open_->x.lowest().close();
  open_.reset();
}

Result<ClientResponse> Connection::send(const ClientRequest& request) {
  ClientRequest call = request;
  call.url = fmt::format("{}://{}{}", endpoint_.tls ? "https" : "http",
                         hostHeader(endpoint_.host, endpoint_.port), endpoint_.target);
  call.tls = tls_;
  call.timeout = timeout_;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = !open_;
    if (fresh) {
      open_ = std::make_unique<Open>();
      if (auto connected = connect(open_->x, call, endpoint_); !connected) {
        open_.reset();
        return tl::unexpected(connected.error());
      }
    }
    bhttp::response_parser<bhttp::string_body> parser;
    auto answer = [&]() -> Result<ClientResponse> {
      SIE_CHECK(write(open_->x, call, endpoint_, true));
      open_->x.lowest().expires_after(timeout_);
      return readResponse(open_->x, call, parser);
    }();
    if (answer) {
      if (!parser.get().keep_alive()) close();
      return answer;
    }
    close();
    if (fresh) return answer;  // a kept-alive connection may have closed: once more, afresh
  }
  return fail(Errc::kIo, fmt::format("{}: the connection closed", call.url));
}

}  // namespace sie::http
