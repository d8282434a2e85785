// WebhookSink: POSTs bus events (decisions by default) to an HTTP(S) endpoint as CloudEvents in
// binary mode (ce-* headers, the event's data as the body) or structured mode (the whole event as
// application/cloudevents+json). Deliveries run on the sink's own thread over one keep-alive
// connection (http::Connection), in order. 2xx is delivered; 408, 429, 5xx and connection failures
// are retried with jittered backoff up to `retries`; other answers, and exhausted retries,
// dead-letter the event with the status and reason. On shutdown what is queued gets one attempt
// each.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/http_client.h"
#include "sie/clock.h"
#include "sie/metrics.h"
#include "sie/sink.h"

namespace sie::webhook {

struct WebhookOptions {
  bool tls = false;  // https://: TLS 1.3, the host checked against the server's certificate
  std::string host;
  int port = 80;             // 443 for https
  std::string target = "/";  // path and query
  std::vector<std::string> subscribe = {"decisions/#"};
  bool structured = false;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{5000};
  int retries = 3;
  std::chrono::milliseconds backoff_min{200};
  std::chrono::milliseconds backoff_max{10000};
  std::size_t max_queued = 10000;
  // https: the CAs to trust (nullptr: the system's) and a client certificate for mutual TLS.
  http::ClientTls::Ptr tls_context;
};

class WebhookSink final : public Sink {
 public:
  WebhookSink(std::string name, WebhookOptions options, const Clock& clock = systemClock());
  ~WebhookSink() override;

  [[nodiscard]] const std::string& name() const override { return name_; }
  Status start(const SinkContext& context) override;
  void stop() override;

 private:
  void run();
  void deliver(const Event& event);
  void deadLetter(const Event& event, std::string reason);

  std::string name_;
  WebhookOptions options_;
  const Clock& clock_;
  std::unique_ptr<http::Connection> connection_;  // the sink thread's
  Bus* bus_ = nullptr;
  DeadLetterStore* dead_letters_ = nullptr;
  std::vector<std::uint64_t> subscriptions_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Event> queue_;
  bool stopping_ = false;
  std::thread thread_;
  Counter& delivered_;
  Counter& retried_;
  Counter& dead_lettered_;
};

}  // namespace sie::webhook
