#include "sie/clock.h"

namespace sie {
namespace {

class SystemClock final : public Clock {
 public:
  [[nodiscard]] std::int64_t nowNs() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  [[nodiscard]] std::int64_t monotonicNs() const override { return sie::monotonicNs(); }
};

}  // namespace

const Clock& systemClock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace sie
