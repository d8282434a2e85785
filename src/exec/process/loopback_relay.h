// LoopbackRelay: the one door out of a function's private network namespace. Connections its
// workers make to 127.0.0.1:PORT there (the node's Dapr API port, told them as DAPR_HTTP_PORT)
// are carried to 127.0.0.1:PORT in the node's own network, where that API listens; nothing else
// of the host is reachable from inside. One thread per relay; at most kMaxConnections at once,
// more are closed as they arrive (a worker cannot make the node hold unbounded sockets), and a
// connection silent both ways for the idle time is closed (nor hold the function's slots).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "sie/result.h"

namespace sie::process {

class LoopbackRelay {
 public:
  static constexpr int kMaxConnections = 64;
  // Above the node's own keep-alive timeout, so a kept-alive call ends from the node's side first.
  static constexpr std::chrono::milliseconds kIdle{60'000};

  // `listener`: a TCP socket listening inside the function's namespace (taken over, closed on
  // failure); connections go to 127.0.0.1:`port` as the node sees it.
  static Result<std::unique_ptr<LoopbackRelay>> start(int listener, std::uint16_t port,
                                                      std::chrono::milliseconds idle = kIdle);
  ~LoopbackRelay();  // closes the listener and every connection
  LoopbackRelay(const LoopbackRelay&) = delete;
  LoopbackRelay& operator=(const LoopbackRelay&) = delete;

 private:
  struct Loop;
  explicit LoopbackRelay(std::unique_ptr<Loop> loop);
  std::unique_ptr<Loop> loop_;
};

}  // namespace sie::process
