// Escalation of uncertain decisions to another function, with a deadline. Requests run on the
// escalator's own thread, so a slow or hung target costs the caller at most the deadline; a
// bounded queue keeps a stalled target from piling up work (a full queue answers at once with the
// local decision). Local targets now; an upstream node can implement the same call later.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "sie/event.h"
#include "sie/function.h"
#include "sie/metrics.h"

namespace sie::node {

// Where escalations go: a function's decision on an event, without acting on it.
struct EscalationTarget {
  std::string name;  // for messages and metrics
  std::function<Result<std::optional<Decision>>(const Event&)> evaluate;
};

class Escalator {
 public:
  // What `target` calls outlives the escalator.
  Escalator(EscalationTarget target, const std::string& from, std::size_t capacity = 256);
  ~Escalator();
  Escalator(const Escalator&) = delete;
  Escalator& operator=(const Escalator&) = delete;

  // The target's decision on `event`, or nullopt when it did not answer within `deadline` (or
  // failed, or the queue was full); `why` then says which.
  std::optional<Decision> ask(const Event& event, std::chrono::milliseconds deadline,
                              std::string& why);

 private:
  struct Request {
    Event event;
    std::promise<Result<std::optional<Decision>>> answer;
  };
  void run();

  EscalationTarget target_;
  std::size_t capacity_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Request>> queue_;
  bool stopping_ = false;
  Counter& answered_;
  Counter& timed_out_;
  Counter& failed_;
  std::thread thread_;
};

}  // namespace sie::node
