// How the dispatcher queues events for functions: the site file's spec.dispatcher.
#pragma once

#include <chrono>
#include <cstddef>

namespace sie::node {

enum class OverloadPolicy { kBlock, kDropOldest, kDeadLetter };

struct DispatcherOptions {
  std::size_t queue_capacity = 10000;  // per function
  OverloadPolicy overload = OverloadPolicy::kBlock;
  int workers = 0;  // 0 = one per core
  int lanes = 64;   // per function; events of one sensor always share a lane (ordering)
  std::chrono::milliseconds block_timeout{5000};  // kBlock: longest a source waits, then refused
};

}  // namespace sie::node
