#include "adapters/webhook/webhook_sink.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/backoff.h"
#include "core/json_text.h"
#include "core/log.h"
#include "core/rfc3339.h"

namespace sie::webhook {
namespace {

bool retryable(int status) { return status == 408 || status == 429 || status >= 500; }

}  // namespace

WebhookSink::WebhookSink(std::string name, WebhookOptions options, const Clock& clock)
    : name_(std::move(name)),
      options_(std::move(options)),
      clock_(clock),
      connection_(std::make_unique<http::Connection>(
          http::Url{options_.tls, options_.host, std::to_string(options_.port), options_.target},
          options_.tls_context, options_.timeout)),
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
  http::ClientRequest request;
  request.method = "POST";
  if (options_.structured) {
    nlohmann::json envelope{{"specversion", "1.0"},     {"id", event.id},
                            {"source", event.source},   {"type", event.type},
                            {"subject", event.subject}, {"time", formatRfc3339(event.time_ns)}};
    auto data = parseJsonOrDiscarded(event.data);
    if (data.is_discarded())
      envelope["data"] = event.data;
    else
      envelope["data"] = std::move(data);
    request.content_type = "application/cloudevents+json";
    request.body = envelope.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    request.headers["ce-specversion"] = "1.0";
    request.headers["ce-id"] = event.id;
    request.headers["ce-source"] = event.source;
    request.headers["ce-type"] = event.type;
    if (!event.subject.empty()) request.headers["ce-subject"] = event.subject;
    request.headers["ce-time"] = formatRfc3339(event.time_ns);
    request.content_type =
        event.datacontenttype.empty() ? "application/json" : event.datacontenttype;
    request.body = event.data;
  }
  for (const auto& [name, value] : options_.headers) request.headers[name] = value;

  Backoff backoff(options_.backoff_min, options_.backoff_max);
  std::string last_error;
  for (int attempt = 0; attempt <= options_.retries; ++attempt) {
    if (attempt > 0) {
      std::unique_lock lock(mu_);
      if (stopping_) break;  // shutting down: one attempt per event, the rest is dead-lettered
      retried_.inc();
      wake_.wait_for(lock, backoff.next(), [&] { return stopping_; });
    }
    auto answer = connection_->send(request);
    if (answer && answer->status >= 200 && answer->status < 300) {
      delivered_.inc();
      return;
    }
    if (answer) {
      last_error = fmt::format("the webhook answered {}", answer->status);
      if (!retryable(answer->status)) break;
    } else {
      last_error = answer.error().message;
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
