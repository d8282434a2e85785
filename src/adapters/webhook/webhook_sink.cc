#include "adapters/webhook/webhook_sink.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include "core/backoff.h"
#include "core/json_text.h"
#include "core/log.h"
#include "core/rfc3339.h"

namespace sie::webhook {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

bool retryable(int status) { return status == 408 || status == 429 || status >= 500; }

}  // namespace

// One keep-alive HTTP/1.1 connection (TLS for https), used by the sink thread only.
class WebhookSink::Connection {
 public:
  explicit Connection(const WebhookOptions& options) : options_(options) {}

  // The response status, or an error for a connection failure.
  Result<int> post(const http::request<http::string_body>& request) {
    for (int attempt = 0; attempt < 2; ++attempt) {  // a kept-alive connection may have closed
      const bool fresh = !plain_ && !secure_;
      if (fresh) SIE_CHECK(connect());
      beast::error_code ec;
      lowest().expires_after(options_.timeout);
      http::response<http::string_body> response;
      beast::flat_buffer buffer;
      with([&](auto& stream) {
        http::write(stream, request, ec);
        if (!ec) http::read(stream, buffer, response, ec);
      });
      if (!ec) {
        if (!response.keep_alive()) close();
        return static_cast<int>(response.result_int());
      }
      close();
      if (fresh) {
        return fail(Errc::kIo,
                    fmt::format("webhook {}:{}: {}", options_.host, options_.port, ec.message()));
      }
    }
    return fail(Errc::kIo, "webhook: connection closed");
  }

  void close() {
    if (!plain_ && !secure_) return;
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
    plain_.reset();
    secure_.reset();
  }

 private:
  beast::tcp_stream& lowest() { return secure_ ? beast::get_lowest_layer(*secure_) : *plain_; }
  template <class Operation>
  void with(Operation&& operation) {
    if (secure_) {
      operation(*secure_);
    } else {
      operation(*plain_);
    }
  }

  Status connect() {
    beast::error_code ec;
    tcp::resolver resolver(io_);
    const auto endpoints = resolver.resolve(options_.host, std::to_string(options_.port), ec);
    beast::tcp_stream stream(io_);
    if (!ec) {
      stream.expires_after(options_.timeout);
      stream.connect(endpoints, ec);
    }
    if (ec) {
      return fail(Errc::kIo, fmt::format("webhook {}:{}: cannot connect: {}", options_.host,
                                         options_.port, ec.message()));
    }
    stream.socket().set_option(tcp::no_delay(true), ec);
    if (!options_.tls) {
      plain_.emplace(std::move(stream));
      return ok();
    }
    if (!context_) {
      ssl_ctx_st* shared = options_.tls_context->context();
      SSL_CTX_up_ref(shared);  // the asio context owns one reference
      context_.emplace(shared);
    }
    secure_.emplace(std::move(stream), *context_);
    SIE_CHECK(sie::http::expectServerName(secure_->native_handle(), options_.host));
    secure_->handshake(asio::ssl::stream_base::client, ec);
    if (ec) {
      const std::string why = sie::http::handshakeFailure(secure_->native_handle(), ec.message());
      close();
      return fail(Errc::kIo,
                  fmt::format("webhook {}:{}: TLS failed: {}", options_.host, options_.port, why));
    }
    return ok();
  }

  const WebhookOptions& options_;
  asio::io_context io_;
  std::optional<asio::ssl::context> context_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
};

WebhookSink::WebhookSink(std::string name, WebhookOptions options, const Clock& clock)
    : name_(std::move(name)),
      options_(std::move(options)),
      clock_(clock),
      connection_(std::make_unique<Connection>(options_)),
      delivered_(metrics().counter("sie_webhook_delivered_total", "Events a webhook accepted (2xx)",
                                   {{"sink", name_}})),
      retried_(metrics().counter("sie_webhook_retries_total", "Webhook deliveries tried again",
                                 {{"sink", name_}})),
      dead_lettered_(metrics().counter("sie_webhook_dead_lettered_total",
                                       "Events a webhook refused or never answered (dead-lettered)",
                                       {{"sink", name_}})) {}

WebhookSink::~WebhookSink() { stop(); }

Status WebhookSink::start(const SinkContext& context) {
  bus_ = &context.bus;
  dead_letters_ = &context.dead_letters;
  thread_ = std::thread([this] { run(); });
  for (const auto& pattern : options_.subscribe) {
    subscriptions_.push_back(bus_->subscribe(pattern, [this](std::string_view, const Event& event) {
      std::unique_lock lock(mu_);
      if (queue_.size() >= options_.max_queued) {
        lock.unlock();
        deadLetter(event,
                   fmt::format("{} events already wait for the webhook", options_.max_queued));
        return;
      }
      queue_.push_back(event);
      lock.unlock();
      wake_.notify_one();
    }));
  }
  return ok();
}

void WebhookSink::stop() {
  if (!bus_) return;
  for (const auto id : subscriptions_) bus_->unsubscribe(id);
  subscriptions_.clear();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;  // what is queued is still delivered (or dead-lettered) first
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  connection_->close();
  bus_ = nullptr;
}

void WebhookSink::run() {
  while (true) {
    Event event;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      event = std::move(queue_.front());
      queue_.pop_front();
    }
    deliver(event);
  }
}

void WebhookSink::deliver(const Event& event) {
  http::request<http::string_body> request{http::verb::post, options_.target, 11};
  request.set(http::field::host,
              sie::http::hostHeader(options_.host, std::to_string(options_.port)));
  request.set(http::field::user_agent, "sie");
  request.keep_alive(true);
  if (options_.structured) {
    nlohmann::json envelope{{"specversion", "1.0"},     {"id", event.id},
                            {"source", event.source},   {"type", event.type},
                            {"subject", event.subject}, {"time", formatRfc3339(event.time_ns)}};
    auto data = parseJsonOrDiscarded(event.data);
    if (data.is_discarded())
      envelope["data"] = event.data;
    else
      envelope["data"] = std::move(data);
    request.set(http::field::content_type, "application/cloudevents+json");
    request.body() = envelope.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    request.set("ce-specversion", "1.0");
    request.set("ce-id", event.id);
    request.set("ce-source", event.source);
    request.set("ce-type", event.type);
    if (!event.subject.empty()) request.set("ce-subject", event.subject);
    request.set("ce-time", formatRfc3339(event.time_ns));
    request.set(http::field::content_type,
                event.datacontenttype.empty() ? "application/json" : event.datacontenttype);
    request.body() = event.data;
  }
  for (const auto& [name, value] : options_.headers) request.set(name, value);
  request.prepare_payload();

  Backoff backoff(options_.backoff_min, options_.backoff_max);
  std::string last_error;
  for (int attempt = 0; attempt <= options_.retries; ++attempt) {
    if (attempt > 0) {
      std::unique_lock lock(mu_);
      if (stopping_) break;  // shutting down: one attempt per event, the rest is dead-lettered
      retried_.inc();
      wake_.wait_for(lock, backoff.next(), [&] { return stopping_; });
    }
    auto status = connection_->post(request);
    if (status && *status >= 200 && *status < 300) {
      delivered_.inc();
      return;
    }
    if (status) {
      last_error = fmt::format("the webhook answered {}", *status);
      if (!retryable(*status)) break;
    } else {
      last_error = status.error().message;
    }
  }
  deadLetter(event, last_error);
}

void WebhookSink::deadLetter(const Event& event, std::string reason) {
  dead_lettered_.inc();
  Log("sink", name_).warn("event {} dead-lettered: {}", event.id, reason);
  DeadLetter letter{0,         clock_.nowNs(), "sink:" + name_, std::move(reason), event.subject,
                    event.data};
  if (auto stored = dead_letters_->put(std::move(letter)); !stored) {
    Log("sink", name_).error("event lost, the dead-letter store failed: {}", stored.error().str());
  }
}

}  // namespace sie::webhook
