#include "runtime/scaler.h"

namespace sie::node {

Scaler::Scaler(std::function<void()> tick, std::chrono::milliseconds period)
    : tick_(std::move(tick)), period_(period), thread_([this] { run(); }) {}

Scaler::~Scaler() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Scaler::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    tick_();
    lock.lock();
    wake_.wait_for(lock, period_, [this] { return stopping_; });
  }
}

}  // namespace sie::node
