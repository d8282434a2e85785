#include "http/http_server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sie::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 &&
               hexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Streamed responses run on threads of their own, counted and joined here.
class Streams {
 public:
  bool stopping() const { return stopping_.load(); }
  // false when kMaxStreams already run.
  bool launch(std::function<void()> run) {
    std::lock_guard lock(mu_);
    std::erase_if(threads_, [](Entry& e) {
      if (!e.done->load()) return false;
      e.thread.join();
      return true;
    });
    if (stopping_ || static_cast<int>(threads_.size()) >= HttpServer::kMaxStreams) return false;
    auto done = std::make_shared<std::atomic<bool>>(false);
    threads_.push_back({std::thread([run = std::move(run), done] {
                          run();
                          *done = true;
                        }),
                        done});
    return true;
  }
  void stop() {
    std::vector<Entry> joining;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      joining.swap(threads_);
    }
    for (auto& e : joining) e.thread.join();
  }

 private:
  struct Entry {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::mutex mu_;
  std::vector<Entry> threads_;
  std::atomic<bool> stopping_{false};
};

// Writes chunks straight to the socket (blocking) from the stream's thread.
class ChunkWriter final : public StreamWriter {
 public:
  ChunkWriter(tcp::socket& socket, const Streams& streams) : socket_(socket), streams_(streams) {}
  bool write(std::string_view chunk) override {
    if (failed_ || streams_.stopping()) return false;
    if (chunk.empty()) return true;  // an empty chunk would end the body
    beast::error_code ec;
    asio::write(socket_, bhttp::make_chunk(asio::buffer(chunk.data(), chunk.size())), ec);
    failed_ = static_cast<bool>(ec);
    return !failed_;
  }
  [[nodiscard]] bool open() const override { return !failed_ && !streams_.stopping(); }

 private:
  tcp::socket& socket_;
  const Streams& streams_;
  bool failed_ = false;
};

// One connection: read a request, answer it, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpServer::Handler& handler, Streams& streams,
          std::size_t max_body)
      : stream_(std::move(socket)), handler_(handler), streams_(streams), max_body_(max_body) {}

  void run() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(max_body_);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::seconds(30));
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout) return close();
    if (ec == bhttp::error::body_limit) {
      return reply(
          413,
          fmt::format(
              R"({{"error":"payload_too_large","message":"request body exceeds {} bytes"}})",
              max_body_),
          false);
    }
    if (ec)
      return reply(400, R"({"error":"bad_request","message":"malformed HTTP request"})", false);
    const auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    const auto q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos)
      request.query = parseQuery(std::string_view(request.target).substr(q + 1));
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      request.headers[std::move(name)] = std::string(field.value());
    }
    request.body = req.body();
    HttpResponse response = handler_(request);
    if (response.stream) return streamReply(std::move(response), req.version());
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(response.status), req.version());
    res->set(bhttp::field::server, "sie");
    res->set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res->set(name, value);
    res->keep_alive(req.keep_alive());
    res->body() = std::move(response.body);
    res->prepare_payload();
    write(res);
  }

  void streamReply(HttpResponse response, unsigned version) {
    auto self = shared_from_this();
    const bool launched = streams_.launch([self, response = std::move(response), version] {
      auto& socket = self->stream_.socket();
      bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(response.status), version};
      res.set(bhttp::field::server, "sie");
      res.set(bhttp::field::content_type, response.content_type);
      for (const auto& [name, value] : response.headers) res.set(name, value);
      res.keep_alive(false);
      res.chunked(true);
      bhttp::response_serializer<bhttp::empty_body> serializer{res};
      beast::error_code ec;
      bhttp::write_header(socket, serializer, ec);
      if (ec) return;
      ChunkWriter writer(socket, self->streams_);
      if (writer.write(response.body)) response.stream(writer);
      asio::write(socket, bhttp::make_chunk_last(), ec);
      socket.shutdown(tcp::socket::shutdown_send, ec);
    });
    if (!launched) {
      reply(
          429,
          R"({"error":"too_many_streams","message":"too many streamed responses are open; close one and retry"})",
          false);
    }
  }

  void reply(int status, std::string body, bool keep_alive) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(status), 11);
    res->set(bhttp::field::server, "sie");
    res->set(bhttp::field::content_type, "application/json");
    res->keep_alive(keep_alive);
    res->body() = std::move(body);
    res->prepare_payload();
    write(res);
  }

  void write(const std::shared_ptr<bhttp::response<bhttp::string_body>>& res) {
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                         if (ec || !res->keep_alive()) return self->close();
                         self->read();
                       });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  const HttpServer::Handler& handler_;
  Streams& streams_;
  std::size_t max_body_;
};

class BeastServer final : public HttpServer {
 public:
  BeastServer(Handler handler, int threads, std::size_t max_body)
      : handler_(std::move(handler)),
        io_(std::max(1, threads)),
        acceptor_(io_),
        thread_count_(std::max(1, threads)),
        max_body_(max_body) {}
  ~BeastServer() override { stop(); }

  Status listen(const std::string& host, std::uint16_t port) {
    beast::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) return fail(Errc::kInvalidArgument, fmt::format("'{}' is not an IP address", host));
    const tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return fail(Errc::kIo, fmt::format("cannot listen on {}:{}: {}", host, port, ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    accept();
    for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { io_.run(); });
    return ok();
  }

  [[nodiscard]] std::uint16_t port() const override { return port_; }

  void stop() override {
    if (threads_.empty()) return;
    streams_.stop();
    io_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket), handler_, streams_, max_body_)->run();
      }
      accept();
    });
  }

  Handler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  int thread_count_;
  std::size_t max_body_;
  Streams streams_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
};

}  // namespace

std::map<std::string, std::string> parseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      out[decode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& host_port, Handler handler,
                                                      int threads, std::size_t max_body) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    return fail(Errc::kInvalidArgument,
                fmt::format("HTTP address '{}' must be HOST:PORT, e.g. 127.0.0.1:8080", host_port));
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  const std::string_view port_text = std::string_view(host_port).substr(colon + 1);
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return fail(Errc::kInvalidArgument,
                fmt::format("HTTP port in '{}' must be a number from 0 to 65535", host_port));
  }
  auto server = std::make_unique<BeastServer>(std::move(handler), threads, max_body);
  SIE_CHECK(server->listen(host, static_cast<std::uint16_t>(port)));
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace sie::http
