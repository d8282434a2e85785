// Scaler: one thread that calls `tick` on a fixed period; the node ticks every function's instance
// pool (instance_pool.h) with the dispatcher's queue depth for that function, so pools scale up
// ahead of queued work, down after idling, and pre-warm before predicted arrivals.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sie::node {

class Scaler {
 public:
  explicit Scaler(std::function<void()> tick,
                  std::chrono::milliseconds period = std::chrono::milliseconds(50));
  ~Scaler();
  Scaler(const Scaler&) = delete;
  Scaler& operator=(const Scaler&) = delete;

 private:
  void run();

  std::function<void()> tick_;
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sie::node
