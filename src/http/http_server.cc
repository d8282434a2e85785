#include "http/http_server.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "sie/metrics.h"

namespace sie::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

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

// Hands chunks to the connection from the stream's thread; `send` waits for each write, which
// fails once the client has not taken it within the write timeout.
class ChunkWriter final : public StreamWriter {
 public:
  using Send = std::function<bool(std::string_view chunk)>;
  ChunkWriter(Send send, const Streams& streams) : send_(std::move(send)), streams_(streams) {}
  bool write(std::string_view chunk) override {
    if (failed_ || streams_.stopping()) return false;
    if (chunk.empty()) return true;  // an empty chunk would end the body
    failed_ = !send_(chunk);
    return !failed_;
  }
  [[nodiscard]] bool open() const override { return !failed_ && !streams_.stopping(); }

 private:
  Send send_;
  const Streams& streams_;
  bool failed_ = false;
};

// The request line and headers as the handler sees them.
HttpRequest toRequest(const bhttp::request_header<>& header) {
  HttpRequest request;
  request.method = std::string(header.method_string());
  request.target = std::string(header.target());
  const auto q = request.target.find('?');
  request.path = request.target.substr(0, q);
  if (q != std::string::npos)
    request.query = parseQuery(std::string_view(request.target).substr(q + 1));
  for (const auto& field : header) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    request.headers[std::move(name)] = std::string(field.value());
  }
  return request;
}

// A fresh name in the spool folder for one upload.
std::string spoolPath(const std::string& dir) {
  static std::atomic<std::uint64_t> next{0};
  return fmt::format("{}/upload-{}-{}", dir,
                     std::chrono::steady_clock::now().time_since_epoch().count(), next++);
}

// Where handlers that may take long (ServerOptions::offload) run. Up to one less than the I/O
// threads run inline, as cheap as any call; past that they go to a pool, so at least one I/O
// thread is always free for the others. Calls in the pool queue up to a bound.
class Handlers {
 public:
  Handlers(int io_threads, int threads, std::size_t max)
      : pool_(static_cast<std::size_t>(threads)), inline_max_(io_threads - 1), max_(max) {}
  ~Handlers() { pool_.join(); }
  Handlers(const Handlers&) = delete;
  Handlers& operator=(const Handlers&) = delete;
  asio::thread_pool& pool() { return pool_; }
  // false when `max` calls already run or wait.
  bool admit() {
    std::size_t now = active_.load();
    do {
      if (now >= max_) return false;
    } while (!active_.compare_exchange_weak(now, now + 1));
    return true;
  }
  void done() { active_.fetch_sub(1); }
  // true when the call may run on the I/O thread it arrived on; then inlineDone() after it.
  bool tryInline() {
    if (inline_.fetch_add(1) < inline_max_) return true;
    inline_.fetch_sub(1);
    return false;
  }
  void inlineDone() { inline_.fetch_sub(1); }

 private:
  asio::thread_pool pool_;
  std::atomic<int> inline_{0};
  const int inline_max_;
  const std::size_t max_;
  std::atomic<std::size_t> active_{0};
};

// What Connections needs of a connection, whatever it speaks.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection from outside (eviction), on the connection's strand.
  virtual void evict() = 0;
  // Where this session sits in Connections' idle list while it waits for a header; guarded by
  // the Connections mutex.
  std::optional<std::list<std::weak_ptr<SessionBase>>::iterator> idle_at;
};

// The open connections: how many, and which wait for a request header, oldest first, so that at
// the cap a new connection evicts the longest-idle one instead of being turned away.
class Connections {
 public:
  using IdleList = std::list<std::weak_ptr<SessionBase>>;

  explicit Connections(std::size_t max)
      : max_(std::max<std::size_t>(1, max)),
        open_(metrics().gauge("sie_http_connections",
                              "Open connections to the node's HTTP listeners.")),
        evicted_(metrics().counter("sie_http_connections_evicted_total",
                                   "Idle connections closed to make room for new ones.")),
        refused_(metrics().counter("sie_http_connections_refused_total",
                                   "Connections closed at once: the cap was reached, none idle.")) {
  }

  // A connection was accepted: true when it may be served (room, or an idle one evicted).
  bool admit();
  // Makes room by evicting the longest-idle connection; false when none is idle.
  bool evictOldest();
  void markIdle(const std::shared_ptr<SessionBase>& session);
  void markBusy(SessionBase& session);
  void closed(SessionBase& session);

 private:
  bool evictOldestLocked();

  const std::size_t max_;
  Gauge& open_;
  Counter& evicted_;
  Counter& refused_;
  std::mutex mu_;
  std::size_t count_ = 0;
  IdleList idle_;
};

// One connection: (over TLS, a handshake first) read a request's header, then its body (into
// memory, or into a spool file for an upload), answer it, repeat while keep-alive. `Stream` is a
// beast::tcp_stream or a TlsStream over one.
template <class Stream>
class Session final : public SessionBase {
  static constexpr std::size_t kBodyBlock = 64 * 1024;
  static constexpr std::size_t kUploadBlock = 1024 * 1024;
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  // `tls` keeps the context the connection was made with alive (nullptr without TLS).
  // `handlers` runs offloaded handlers (nullptr: no offloading).
  template <class... StreamArgs>
  Session(const HttpServer::Handler& handler, Streams& streams, Handlers* handlers,
          const ServerOptions& options, Connections& connections,
          std::shared_ptr<asio::ssl::context> tls, StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...),
        tls_(std::move(tls)),
        handler_(handler),
        streams_(streams),
        handlers_(handlers),
        options_(options),
        connections_(connections) {
    // Asio asks OpenSSL to free a connection's record buffers after every record and allocate them
    // again for the next (≈ 34 KB a call, and heap consolidation): keep-alive callers pay that on
    // each request. A connection keeps them instead, until it closes (512 connections at most by
    // default, and idle ones close after the header timeout).
    if constexpr (kTls) SSL_clear_mode(stream_.native_handle(), SSL_MODE_RELEASE_BUFFERS);
  }
  ~Session() override { connections_.closed(*this); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void run() {
    beast::error_code peer_ec;
    const auto peer = lowest().socket().remote_endpoint(peer_ec);
    if (!peer_ec) peer_ = fmt::format("{}:{}", peer.address().to_string(), peer.port());
    if constexpr (kTls) {
      lowest().expires_after(options_.header_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = self()](beast::error_code ec) { self->onHandshake(ec); });
    } else {
      read();
    }
  }

  void evict() override {
    asio::post(stream_.get_executor(), [self = self()] {
      beast::error_code ignored;
      self->lowest().socket().close(ignored);
    });
  }

 private:
  std::shared_ptr<Session> self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void onHandshake(beast::error_code ec) {
    static Counter& refused = metrics().counter("sie_tls_handshakes_total",
                                                "TLS handshakes on the node's listener by outcome.",
                                                {{"outcome", "refused"}});
    static Counter& accepted =
        metrics().counter("sie_tls_handshakes_total",
                          "TLS handshakes on the node's listener by outcome.", {{"outcome", "ok"}});
    if (ec) {
      refused.inc();
      if (options_.on_tls_refused && ec != asio::error::operation_aborted) {
        std::string reason = ec.message();
        const long verify = SSL_get_verify_result(stream_.native_handle());
        if (verify != X509_V_OK) {
          reason = fmt::format("client certificate: {}", X509_verify_cert_error_string(verify));
        }
        options_.on_tls_refused(peer_, reason);
      }
      return;  // the socket closes with the session
    }
    accepted.inc();
    if constexpr (kTls) {
      X509* cert = SSL_get0_peer_certificate(stream_.native_handle());
      peer_uri_ = uriSanOf(cert);
      peer_organization_ = organizationOf(cert);
    }
    read();
  }

  void read() {
    parser_.emplace();
    // The largest any path accepts; the header says which applies.
    parser_->body_limit(
        std::max<std::uint64_t>(options_.max_body, options_.spool ? options_.spool->max_bytes : 0));
    parser_->header_limit(16 * 1024);
    lowest().expires_after(options_.header_timeout);
    connections_.markIdle(shared_from_this());
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = self()](beast::error_code ec, std::size_t) { self->onHeader(ec); });
  }

  void onHeader(beast::error_code ec) {
    connections_.markBusy(*this);
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) return;
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout) return close();
    if (ec == asio::ssl::error::stream_truncated) return;  // gone without close_notify
    if (ec == bhttp::error::body_limit) return tooLarge(options_.max_body);
    if (ec) return malformed();
    const auto& header = parser_->get();
    pending_ = toRequest(header);
    pending_.peer = peer_;
    pending_.peer_uri = peer_uri_;
    pending_.peer_organization = peer_organization_;
    if (options_.admit) {
      if (auto refused = options_.admit(pending_)) {
        return send(std::move(*refused), false, 11, header.method() == bhttp::verb::head);
      }
    }
    const bool expects_continue = beast::iequals(header[bhttp::field::expect], "100-continue");
    if (options_.spool && header.target().starts_with(options_.spool->prefix)) {
      return readSpooled(expects_continue);
    }
    if (parser_->content_length().value_or(0) > options_.max_body) {
      return tooLarge(options_.max_body);
    }
    parser_->body_limit(options_.max_body);
    continueThen(expects_continue, [self = self()] {
      self->readBody(*self->parser_, kBodyBlock,
                     [self](beast::error_code read_ec) { self->onBody(read_ec); });
    });
  }

  // Feeds what the buffer holds to `parser`; true once the message is complete (a small body
  // usually arrives with its header: no further read, no hop to another thread).
  template <class Parser>
  bool parseBuffered(Parser& parser, beast::error_code& ec) {
    parser.eager(true);
    while (!parser.is_done() && buffer_.size() > 0) {
      const std::size_t used = parser.put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) {
        ec = {};
        break;
      }
      if (ec || used == 0) break;
    }
    return parser.is_done();
  }

  // Reads the body to its end, `block` bytes at most per read: uploads read 1 MiB at a time
  // (Beast's own loop reads 64 KiB, and every completion may wake another thread).
  template <class Parser, class Done>
  void readBody(Parser& parser, std::size_t block, Done done) {
    beast::error_code ec;
    if (parseBuffered(parser, ec) || ec) return done(ec);
    stream_.async_read_some(buffer_.prepare(block), [self = self(), &parser, block, done](
                                                        beast::error_code read_ec, std::size_t n) {
      self->buffer_.commit(n);
      if (read_ec == asio::error::eof) return done(bhttp::error::partial_message);
      if (read_ec) return done(read_ec);
      self->readBody(parser, block, done);
    });
  }

  void onBody(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) return tooLarge(options_.max_body);
    if (ec) return malformed();
    auto& req = parser_->get();
    HttpRequest request = std::move(pending_);
    request.body = std::move(req.body());
    answer(std::move(request), req.version(), req.keep_alive());
  }

  void readSpooled(bool expects_continue) {
    const Spool& spool = *options_.spool;
    if (parser_->content_length().value_or(0) > spool.max_bytes) return tooLarge(spool.max_bytes);
    file_parser_.emplace(std::move(*parser_));
    parser_.reset();
    file_parser_->body_limit(spool.max_bytes);
    spooled_ = spoolPath(spool.dir);
    beast::error_code ec;
    file_parser_->get().body().open(spooled_.c_str(), beast::file_mode::write_new, ec);
    if (ec) {
      spdlog::error("http: cannot spool an upload to {}: {}", spooled_, ec.message());
      spooled_.clear();
      return reply(
          507,
          R"({"error":"insufficient_storage","message":"the node cannot store the upload; see its log"})",
          false);
    }
    lowest().expires_after(std::chrono::minutes(10));  // a large model on a slow link
    continueThen(expects_continue, [self = self()] {
      self->readBody(*self->file_parser_, kUploadBlock,
                     [self](beast::error_code read_ec) { self->onSpooled(read_ec); });
    });
  }

  void onSpooled(beast::error_code ec) {
    const auto& req = file_parser_->get();
    HttpRequest request = std::move(pending_);
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    file_parser_.reset();  // closes the file
    request.body_file = std::exchange(spooled_, "");
    if (ec) {
      dropSpool(request.body_file);
      if (ec == bhttp::error::body_limit) return tooLarge(options_.spool->max_bytes);
      return malformed();
    }
    answer(std::move(request), version, keep_alive);
  }

  // Sends "100 Continue" first when the client waits for it before sending the body.
  void continueThen(bool expects_continue, std::function<void()> next) {
    if (!expects_continue) return next();
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
    bhttp::async_write(
        stream_, *res,
        [self = self(), res, next = std::move(next)](beast::error_code ec, std::size_t) {
          if (ec) return self->close();
          next();
        });
  }

  void answer(HttpRequest request, unsigned version, bool keep_alive) {
    if (handlers_ != nullptr && options_.offload && options_.offload(request)) {
      if (handlers_->tryInline()) {
        HttpResponse response = handler_(request);
        handlers_->inlineDone();
        return finish(std::move(request), std::move(response), version, keep_alive);
      }
      if (!handlers_->admit()) {
        if (!request.body_file.empty()) dropSpool(request.body_file);
        return reply(
            503,
            R"({"error":"busy","message":"too many long calls are in progress; retry shortly"})",
            false);
      }
      // A handler that may take long runs off the I/O threads; the answer is sent from the
      // connection's strand once it is there.
      asio::post(handlers_->pool(),
                 [self = self(), request = std::move(request), version, keep_alive]() mutable {
                   HttpResponse response = self->handler_(request);
                   self->handlers_->done();
                   asio::post(self->stream_.get_executor(), [self, request = std::move(request),
                                                             response = std::move(response),
                                                             version, keep_alive]() mutable {
                     self->finish(std::move(request), std::move(response), version, keep_alive);
                   });
                 });
      return;
    }
    HttpResponse response = handler_(request);
    finish(std::move(request), std::move(response), version, keep_alive);
  }

  void finish(HttpRequest request, HttpResponse response, unsigned version, bool keep_alive) {
    if (!request.body_file.empty()) dropSpool(request.body_file);
    const bool head = request.method == "HEAD";
    if (response.stream && !head) return streamReply(std::move(response), version);
    send(std::move(response), keep_alive, version, head);
  }

  // Runs an asynchronous write on the connection's strand and waits for it, from a stream's
  // thread; false when it failed or the client took longer than the write timeout.
  template <class Initiate>
  bool writeWaiting(Initiate initiate) {
    auto done = std::make_shared<std::promise<beast::error_code>>();
    auto result = done->get_future();
    asio::post(stream_.get_executor(), [self = self(), initiate, done] {
      self->lowest().expires_after(self->options_.write_timeout);
      initiate(self->stream_, [done](beast::error_code ec, std::size_t) { done->set_value(ec); });
    });
    return !result.get();
  }

  // `head`: the answer to a HEAD request, which has the headers of the GET answer but never a
  // body (a body would be read as the start of the next answer on the connection).
  void send(HttpResponse response, bool keep_alive, unsigned version, bool head) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(response.status), version);
    res->set(bhttp::field::server, "sie");
    res->set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = std::move(response.body);
    res->prepare_payload();
    if (head) res->body().clear();
    write(res);
  }

  static void dropSpool(const std::string& path) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }

  void tooLarge(std::uint64_t limit) {
    reply(
        413,
        fmt::format(R"({{"error":"payload_too_large","message":"request body exceeds {} bytes"}})",
                    limit),
        false);
  }

  void malformed() {
    reply(400, R"({"error":"bad_request","message":"malformed HTTP request"})", false);
  }

  void streamReply(HttpResponse response, unsigned version) {
    const bool launched = streams_.launch([self = self(), response = std::move(response), version] {
      auto res = std::make_shared<bhttp::response<bhttp::empty_body>>(
          static_cast<bhttp::status>(response.status), version);
      res->set(bhttp::field::server, "sie");
      res->set(bhttp::field::content_type, response.content_type);
      for (const auto& [name, value] : response.headers) res->set(name, value);
      res->keep_alive(false);
      res->chunked(true);
      auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*res);
      const bool head_sent = self->writeWaiting([res, serializer](auto& stream, auto handler) {
        bhttp::async_write_header(stream, *serializer, std::move(handler));
      });
      if (!head_sent) return self->abandon();
      ChunkWriter writer(
          [&self](std::string_view chunk) {
            auto copy = std::make_shared<std::string>(chunk);
            return self->writeWaiting([copy](auto& stream, auto handler) {
              asio::async_write(stream, bhttp::make_chunk(asio::buffer(*copy)), std::move(handler));
            });
          },
          self->streams_);
      if (writer.write(response.body)) response.stream(writer);
      const bool ended = self->writeWaiting([](auto& stream, auto handler) {
        asio::async_write(stream, bhttp::make_chunk_last(), std::move(handler));
      });
      if (!ended) return self->abandon();
      asio::post(self->stream_.get_executor(), [self] { self->close(); });
    });
    if (!launched) {
      reply(
          429,
          R"({"error":"too_many_streams","message":"too many streamed responses are open; close one and retry"})",
          false);
    }
  }

  // Drops a connection whose client stopped taking what is sent.
  void abandon() {
    asio::post(stream_.get_executor(), [self = self()] {
      beast::error_code ignored;
      self->lowest().socket().close(ignored);
    });
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
    bhttp::async_write(stream_, *res, [self = self(), res](beast::error_code ec, std::size_t) {
      if (ec || !res->keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    if constexpr (kTls) {
      // close_notify, then the socket closes with the session; a peer that never answers it
      // is given the header timeout.
      lowest().expires_after(options_.header_timeout);
      stream_.async_shutdown([self = self()](beast::error_code) {
        beast::error_code ignored;
        self->lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      });
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  Stream stream_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::string peer_;  // "address:port"
  std::string peer_uri_;
  std::string peer_organization_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::request_parser<bhttp::file_body>> file_parser_;
  std::string spooled_;  // the upload being read, until the handler has it
  HttpRequest pending_;  // the request whose body is being read: its header, admitted
  const HttpServer::Handler& handler_;
  Streams& streams_;
  Handlers* handlers_;
  const ServerOptions& options_;
  Connections& connections_;
};

bool Connections::admit() {
  std::lock_guard lock(mu_);
  if (count_ >= max_ && !evictOldestLocked()) {
    refused_.inc();
    return false;
  }
  ++count_;
  open_.add(1);
  return true;
}

bool Connections::evictOldest() {
  std::lock_guard lock(mu_);
  return evictOldestLocked();
}

bool Connections::evictOldestLocked() {
  while (!idle_.empty()) {
    std::shared_ptr<SessionBase> oldest = idle_.front().lock();
    idle_.pop_front();
    if (!oldest) continue;
    oldest->idle_at.reset();
    oldest->evict();
    evicted_.inc();
    return true;
  }
  return false;
}

void Connections::markIdle(const std::shared_ptr<SessionBase>& session) {
  std::lock_guard lock(mu_);
  if (!session->idle_at) session->idle_at = idle_.insert(idle_.end(), session);
}

void Connections::markBusy(SessionBase& session) {
  std::lock_guard lock(mu_);
  if (session.idle_at) {
    idle_.erase(*session.idle_at);
    session.idle_at.reset();
  }
}

void Connections::closed(SessionBase& session) {
  std::lock_guard lock(mu_);
  if (session.idle_at) {
    idle_.erase(*session.idle_at);
    session.idle_at.reset();
  }
  --count_;
  open_.add(-1);
}

// The listener's TLS files and the context made from them, made again when a file changes.
class TlsFiles {
 public:
  explicit TlsFiles(TlsServerOptions options) : options_(std::move(options)) {}

  Status load() {
    SslCtx made = SIE_TRY(makeServerTls(options_));
    auto context = std::make_shared<asio::ssl::context>(made.release());
    std::lock_guard lock(mu_);
    current_ = std::move(context);
    stamp_ = stamp();
    return ok();
  }

  // Loads the files again when one of them changed since the last good load; a failed load is
  // logged, and the next change tries again.
  void reloadIfChanged() {
    const std::string now = stamp();
    {
      std::lock_guard lock(mu_);
      if (now == stamp_ || now == failed_stamp_) return;
    }
    if (auto loaded = load(); !loaded) {
      spdlog::error(
          "tls: the changed certificate files do not load, still using the previous "
          "ones: {}",
          loaded.error().str());
      std::lock_guard lock(mu_);
      failed_stamp_ = now;
      return;
    }
    spdlog::info("tls: loaded the changed certificate files ({})", options_.cert_file);
  }

  std::shared_ptr<asio::ssl::context> current() {
    std::lock_guard lock(mu_);
    return current_;
  }

 private:
  // Modification times and sizes of the files, to notice a change.
  [[nodiscard]] std::string stamp() const {
    std::string out;
    for (const std::string* file :
         {&options_.cert_file, &options_.key_file, &options_.ca_file, &options_.crl_file}) {
      struct stat st {};
      if (!file->empty() && ::stat(file->c_str(), &st) == 0) {
        out += fmt::format("{}.{}:{};", st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size);
      } else {
        out += "-;";
      }
    }
    return out;
  }

  const TlsServerOptions options_;
  std::mutex mu_;
  std::shared_ptr<asio::ssl::context> current_;
  std::string stamp_;
  std::string failed_stamp_;
};

class BeastServer final : public HttpServer {
 public:
  BeastServer(Handler handler, ServerOptions options)
      : handler_(std::move(handler)),
        options_(std::move(options)),
        connections_(options_.max_connections),
        io_(std::max(1, options_.threads)),
        acceptor_(io_),
        retry_(io_),
        reload_(io_) {
    if (options_.tls) tls_.emplace(*options_.tls);
    if (options_.offload) {
      handlers_ = std::make_unique<Handlers>(std::max(1, options_.threads),
                                             std::max(1, options_.handler_threads),
                                             std::max<std::size_t>(1, options_.max_offloaded));
    }
  }
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
    return serve();
  }

  // A socket already listening, made elsewhere (e.g. in a function's network namespace).
  Status adopt(int listener) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    if (getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      const int error = errno;
      ::close(listener);
      return fail(Errc::kIo, fmt::format("not a socket to serve on: {}", std::strerror(error)));
    }
    beast::error_code ec;
    acceptor_.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listener, ec);
    if (ec) {
      ::close(listener);
      return fail(Errc::kIo, fmt::format("cannot serve on the socket given: {}", ec.message()));
    }
    return serve();
  }

  [[nodiscard]] std::uint16_t port() const override { return port_; }

  void stop() override {
    if (threads_.empty()) return;
    streams_.stop();
    // Offloaded calls finish and post their answers while the I/O threads still run.
    if (handlers_) handlers_->pool().join();
    io_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  Status serve() {
    if (tls_) SIE_CHECK(tls_->load());
    port_ = acceptor_.local_endpoint().port();
    accept();
    if (tls_) watchTls();
    for (int i = 0; i < std::max(1, options_.threads); ++i)
      threads_.emplace_back([this] { io_.run(); });
    return ok();
  }

  void accept() {
    // Each connection on a strand of its own: its handlers never run at once, and an eviction
    // posted from here runs between them.
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec,
                                                          tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        // Out of descriptors: free one if a connection idles, and pause instead of spinning.
        connections_.evictOldest();
        retry_.expires_after(std::chrono::milliseconds(50));
        retry_.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec) accept();
        });
        return;
      }
      if (!ec && connections_.admit()) {
        socket.set_option(tcp::no_delay(true), ec);
        if (tls_) {
          auto context = tls_->current();
          std::make_shared<Session<TlsStream>>(handler_, streams_, handlers_.get(), options_,
                                               connections_, context, std::move(socket), *context)
              ->run();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(handler_, streams_, handlers_.get(),
                                                       options_, connections_, nullptr,
                                                       std::move(socket))
              ->run();
        }
      }
      accept();
    });
  }

  void watchTls() {
    reload_.expires_after(options_.tls_reload);
    reload_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      tls_->reloadIfChanged();
      watchTls();
    });
  }

  Handler handler_;
  ServerOptions options_;
  // Before io_: the sessions io_ still holds when it is destroyed report to it.
  Connections connections_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  asio::steady_timer reload_;
  std::optional<TlsFiles> tls_;
  Streams streams_;
  std::unique_ptr<Handlers> handlers_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& host_port, Handler handler,
                                                      ServerOptions options) {
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
  auto server = std::make_unique<BeastServer>(std::move(handler), std::move(options));
  SIE_CHECK(server->listen(host, static_cast<std::uint16_t>(port)));
  return std::unique_ptr<HttpServer>(std::move(server));
}

Result<std::unique_ptr<HttpServer>> HttpServer::serve(int listener, Handler handler,
                                                      ServerOptions options) {
  auto server = std::make_unique<BeastServer>(std::move(handler), std::move(options));
  SIE_CHECK(server->adopt(listener));
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace sie::http
