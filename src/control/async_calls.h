// AsyncCalls: invocations the API accepted with 202 (async invoke). They run on threads of their
// own, so a slow function never holds an HTTP thread; each result is kept for GET
// /api/v1/calls/{id} (the newest kKept calls) and POSTed to the caller's callback URL when one was
// given (X-Call-Id and X-Function-Status headers, as OpenFaaS does).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/http_client.h"
#include "sie/metrics.h"
#include "sie/result.h"

namespace sie::node {

// How results reach callback URLs: the TLS settings of https callbacks (nullptr: the system's
// CAs, no client certificate) and the networks callbacks may go to (nullptr: any).
struct CallbackPolicy {
  http::ClientTls::Ptr tls;
  std::shared_ptr<const http::NetworkList> networks;
};

class AsyncCalls {
 public:
  static constexpr std::size_t kKept = 1000;
  static constexpr std::size_t kQueueCapacity = 1000;
  // The work of one call: an HTTP status and the JSON result (a sync invoke's answer).
  using Work = std::function<std::pair<int, nlohmann::json>()>;

  explicit AsyncCalls(int threads = 2, std::size_t queue_capacity = kQueueCapacity,
                      CallbackPolicy callbacks = {});
  ~AsyncCalls();
  AsyncCalls(const AsyncCalls&) = delete;
  AsyncCalls& operator=(const AsyncCalls&) = delete;

  // Queues a call; an error when the queue is full (the API answers 429).
  Status submit(const std::string& id, const std::string& function, const std::string& callback,
                Work work);
  // {callId, function, status: queued|running|done|failed, httpStatus, result, callback}.
  [[nodiscard]] std::optional<nlohmann::json> find(const std::string& id) const;
  // Runs what is queued, then joins the threads. Callbacks are no longer retried.
  void stop();

 private:
  struct Call {
    std::string id;
    std::string function;
    std::string callback;
    std::string status = "queued";
    int http_status = 0;
    nlohmann::json result;
    std::string callback_error;
  };
  void run();
  void notify(const Call& call);

  std::size_t capacity_;
  const CallbackPolicy callbacks_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable stopped_;  // ends callback back-offs
  std::deque<std::pair<std::string, Work>> queue_;
  std::map<std::string, Call> calls_;
  std::deque<std::string> order_;  // call ids, oldest first, for trimming
  bool stopping_ = false;
  Counter& callbacks_failed_;
  std::vector<std::thread> threads_;
};

}  // namespace sie::node
