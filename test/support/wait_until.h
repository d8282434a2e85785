// Test helper shared by unit and integration tests: waits on a condition with a deadline instead
// of sleeping for a guessed time.
#pragma once

#include <chrono>
#include <thread>

namespace sie::testing {

// Polls `done` every millisecond until it holds or `timeout` passes; returns its last answer.
template <typename Pred>
bool waitUntil(Pred done, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

}  // namespace sie::testing
