#include "http/bounded_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/ascii_lower.h"

namespace sie::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

}  // namespace

Result<BoundedClient> BoundedClient::make(std::string_view url) {
  BoundedClient client;
  client.text_ = std::string(url);
  client.url_ = SIE_TRY(parseUrl(url));
  if (client.url_.tls) {
    return fail(Errc::kUnsupported,
                fmt::format("'{}': only http:// is supported here; run the server beside the node "
                            "(loopback) or behind a local TLS proxy",
                            url));
  }
  const std::string& port = client.url_.port;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), client.port_);
  if (ec != std::errc() || end != port.data() + port.size() || client.port_ == 0) {
    return fail(Errc::kInvalidArgument, fmt::format("'{}': '{}' is not a port", url, port));
  }
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code error;
  const auto results = resolver.resolve(client.url_.host, port, error);
  if (error || results.empty()) {
    return fail(Errc::kIo, fmt::format("'{}': cannot resolve {}: {}", url, client.url_.host,
                                       error ? error.message() : "no address"));
  }
  for (const auto& entry : results) {
    client.addresses_.push_back(entry.endpoint().address().to_string());
  }
  return client;
}

Result<ClientResponse> BoundedClient::post(std::string_view body, std::chrono::milliseconds timeout,
                                           std::size_t max_body) const {
  asio::io_context io(1);
  tcp::socket socket(io);
  std::vector<tcp::endpoint> endpoints;
  for (const std::string& address : addresses_) {
    endpoints.emplace_back(asio::ip::make_address(address), port_);
  }
  bhttp::request<bhttp::string_body> request{bhttp::verb::post, url_.target, 11};
  request.set(bhttp::field::host, hostHeader(url_.host, url_.port));
  request.set(bhttp::field::user_agent, "sie");
  request.set(bhttp::field::content_type, "application/json");
  request.keep_alive(false);
  request.body() = std::string(body);
  request.prepare_payload();
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_body);
  beast::error_code failure;
  std::string_view stage = "connecting";
  // Each step starts the next; a failure ends the chain, and the context runs out of work.
  asio::async_connect(socket, endpoints, [&](beast::error_code connected, const tcp::endpoint&) {
    if (connected) {
      failure = connected;
      return;
    }
    stage = "sending";
    bhttp::async_write(socket, request, [&](beast::error_code sent, std::size_t) {
      if (sent) {
        failure = sent;
        return;
      }
      stage = "waiting for the answer";
      bhttp::async_read(socket, buffer, parser,
                        [&](beast::error_code read, std::size_t) { failure = read; });
    });
  });
  io.run_for(timeout);
  if (!io.stopped()) {
    // The deadline passed: closing the socket aborts the pending step, whose handler then runs.
    beast::error_code ignored;
    socket.close(ignored);
    io.restart();
    io.run();
    return fail(Errc::kTimeout, fmt::format("{} did not answer within {} ms (it was {})", text_,
                                            timeout.count(), stage));
  }
  if (failure) {
    return fail(Errc::kIo, fmt::format("{}: {} ({})", text_, failure.message(), stage));
  }
  ClientResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    const auto name = field.name_string();
    out.headers[asciiLower(std::string_view(name.data(), name.size()))] =
        std::string(field.value());
  }
  if (auto it = out.headers.find("content-type"); it != out.headers.end()) {
    out.content_type = it->second;
  }
  out.body = std::move(parser.get().body());
  return out;
}

}  // namespace sie::http
