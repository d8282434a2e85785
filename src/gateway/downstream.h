// Downstream: where the gateway hands routed readings (the dispatcher and its per-function
// queues). Implementations are thread-safe and must not block for long: a full queue refuses.
#pragma once

#include <cstdint>
#include <span>

#include "sie/event.h"
#include "sie/result.h"

namespace sie::gateway {

class Downstream {
 public:
  virtual ~Downstream() = default;
  // Takes the event when it returns OK; on error (overload) the event is left untouched and the
  // gateway dead-letters it with the reason. `targets` (router target ids, at least one) is
  // only valid during the call.
  virtual Status deliver(Event&& event, std::span<const std::uint32_t> targets) = 0;
};

}  // namespace sie::gateway
