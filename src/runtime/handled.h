// What a function's handler tells the dispatcher about a turn on a lane: how many of the events it
// was handed are finished, and, when not all, how long the lane waits before the rest are handed
// over again (a failed invocation with retries left). The lane waits on a timer, not on a worker
// thread, and the events behind the failed one wait with it, so each sensor keeps its order.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace sie::node {

struct Handled {
  std::size_t done = 0;  // events[0, done) are finished: acted on, skipped or dead-lettered
  std::chrono::milliseconds retry_after{0};  // when done < size: events[done] is tried again then

  static Handled all(std::size_t count) { return Handled{count, {}}; }
};

// The wait before the next try of an event that failed `failures` times: `first`, doubled each
// time, at most a second.
inline std::chrono::milliseconds retryDelay(std::chrono::milliseconds first, int failures) {
  const int doublings = failures > 1 ? std::min(failures - 1, 20) : 0;
  return std::min<std::chrono::milliseconds>(first * (1LL << doublings), std::chrono::seconds(1));
}

}  // namespace sie::node
