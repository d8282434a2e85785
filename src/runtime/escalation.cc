#include "runtime/escalation.h"

#include <fmt/format.h>

namespace sie::node {
namespace {

Counter& outcome(const std::string& from, const std::string& to, const char* what) {
  return metrics().counter("sie_escalations_total", "Uncertain decisions escalated, by outcome.",
                           {{"function", from}, {"to", to}, {"outcome", what}});
}

}  // namespace

Escalator::Escalator(EscalationTarget target, const std::string& from, std::size_t capacity)
    : target_(std::move(target)),
      capacity_(capacity),
      answered_(outcome(from, target_.name, "answered")),
      timed_out_(outcome(from, target_.name, "timeout")),
      failed_(outcome(from, target_.name, "error")),
      thread_([this] { run(); }) {}

Escalator::~Escalator() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::optional<Decision> Escalator::ask(const Event& event, std::chrono::milliseconds deadline,
                                       std::string& why) {
  auto request = std::make_shared<Request>();
  request->event = event;
  auto answer = request->answer.get_future();
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= capacity_) {
      failed_.inc();
      why = fmt::format("escalation queue to {} is full", target_.name);
      return std::nullopt;
    }
    queue_.push_back(std::move(request));
  }
  wake_.notify_one();
  if (answer.wait_for(deadline) != std::future_status::ready) {
    timed_out_.inc();
    why = fmt::format("{} did not answer within {} ms", target_.name, deadline.count());
    return std::nullopt;
  }
  auto result = answer.get();
  if (!result || !*result) {
    failed_.inc();
    why = result ? fmt::format("{} made no decision", target_.name)
                 : fmt::format("{} failed: {}", target_.name, result.error().message);
    return std::nullopt;
  }
  answered_.inc();
  return **result;
}

void Escalator::run() {
  while (true) {
    std::shared_ptr<Request> request;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      request = std::move(queue_.front());
      queue_.pop_front();
    }
    request->answer.set_value(target_.evaluate(request->event));
  }
}

}  // namespace sie::node
