// Scaler: one thread that ticks every function's instance pool (instance_pool.h) on a fixed
// period with the dispatcher's queue depth for that function, so pools scale up ahead of queued
// work, down after idling, and pre-warm before predicted arrivals.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "node/instance_pool.h"

namespace sie::node {

class Scaler {
 public:
  struct Pool {
    InstancePool* pool;
    std::function<std::size_t()> queued;
  };

  explicit Scaler(std::vector<Pool> pools,
                  std::chrono::milliseconds period = std::chrono::milliseconds(50));
  ~Scaler();
  Scaler(const Scaler&) = delete;
  Scaler& operator=(const Scaler&) = delete;

 private:
  void run();

  std::vector<Pool> pools_;
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sie::node
