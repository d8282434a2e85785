#include "control/async_calls.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/http_client.h"

namespace sie::node {

AsyncCalls::AsyncCalls(int threads, std::size_t queue_capacity, CallbackPolicy callbacks)
    : capacity_(queue_capacity),
      callbacks_(std::move(callbacks)),
      callbacks_failed_(metrics().counter("sie_async_callbacks_failed_total",
                                          "Async invocation results the callback URL refused.")) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

AsyncCalls::~AsyncCalls() { stop(); }

Status AsyncCalls::submit(const std::string& id, const std::string& function,
                          const std::string& callback, Work work) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return fail(Errc::kOverload, "the node is stopping");
    if (queue_.size() >= capacity_) {
      return fail(Errc::kOverload,
                  fmt::format("{} async calls are queued; retry later", queue_.size()));
    }
    Call call;
    call.id = id;
    call.function = function;
    call.callback = callback;
    calls_[id] = std::move(call);
    order_.push_back(id);
    while (order_.size() > kKept) {
      calls_.erase(order_.front());
      order_.pop_front();
    }
    queue_.emplace_back(id, std::move(work));
  }
  wake_.notify_one();
  return ok();
}

std::optional<nlohmann::json> AsyncCalls::find(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(id);
  if (it == calls_.end()) return std::nullopt;
  const Call& c = it->second;
  nlohmann::json out{{"callId", c.id}, {"function", c.function}, {"status", c.status}};
  if (c.http_status != 0) out["httpStatus"] = c.http_status;
  if (!c.result.is_null()) out["result"] = c.result;
  if (!c.callback.empty()) out["callback"] = c.callback;
  if (!c.callback_error.empty()) out["callbackError"] = c.callback_error;
  return out;
}

void AsyncCalls::run() {
  for (;;) {
    std::pair<std::string, Work> next;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      next = std::move(queue_.front());
      queue_.pop_front();
      if (auto it = calls_.find(next.first); it != calls_.end()) it->second.status = "running";
    }
    auto [status, result] = next.second();
    Call done;
    {
      std::lock_guard lock(mu_);
      auto it = calls_.find(next.first);
      if (it == calls_.end()) continue;  // trimmed while it ran
      it->second.status = status < 300 ? "done" : "failed";
      it->second.http_status = status;
      it->second.result = std::move(result);
      done = it->second;
    }
    if (!done.callback.empty()) notify(done);
  }
}

void AsyncCalls::notify(const Call& call) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = call.callback;
  request.body = call.result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  request.headers = {{"X-Call-Id", call.id},
                     {"X-Function-Name", call.function},
                     {"X-Function-Status", std::to_string(call.http_status)}};
  request.timeout = std::chrono::seconds(10);
  request.tls = callbacks_.tls;
  request.allowed_networks = callbacks_.networks;
  std::string error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) {
      // Backs off, but a stopping node makes one attempt per call: with a full queue of
      // undeliverable callbacks, retries held a stop for minutes.
      std::unique_lock lock(mu_);
      if (stopped_.wait_for(lock, std::chrono::milliseconds(200 << attempt),
                            [this] { return stopping_; })) {
        break;
      }
    }
    auto response = http::send(request);
    if (response && response->status < 300) return;
    error =
        response ? fmt::format("callback answered {}", response->status) : response.error().str();
    if (!response && response.error().code == Errc::kPermissionDenied) break;  // not transient
  }
  callbacks_failed_.inc();
  spdlog::warn("[{}] async call {}: callback {} failed: {}", call.function, call.id, call.callback,
               error);
  std::lock_guard lock(mu_);
  if (auto it = calls_.find(call.id); it != calls_.end()) it->second.callback_error = error;
}

void AsyncCalls::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  stopped_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace sie::node
