#include "state/redis/reader.h"

#include <functional>
#include <thread>

#include <fmt/format.h>

namespace sie::state::redis {

Reader::Reader(const Endpoint& endpoint, std::chrono::milliseconds cooldown) : cooldown_(cooldown) {
  for (auto& slot : slots_) slot.connection = Connection(endpoint);
}

Reader::Slot& Reader::pick() {
  const std::size_t home = std::hash<std::thread::id>{}(std::this_thread::get_id()) % kSlots;
  return slots_[home];
}

Result<Reply> Reader::run(const Argv& argv) {
  const Argv* one[] = {&argv};
  auto replies = SIE_TRY(pipeline(one));
  return std::move(replies.front());
}

Result<std::vector<Reply>> Reader::pipeline(std::span<const Argv* const> commands) {
  Slot& slot = pick();
  std::lock_guard lock(slot.mu);
  return attempt(slot, commands);
}

Result<std::vector<Reply>> Reader::attempt(Slot& slot, std::span<const Argv* const> commands) {
  const auto now = std::chrono::steady_clock::now();
  const std::string& name = slot.connection.endpoint().name();
  for (int tries = 0; tries < 2; ++tries) {
    if (!slot.connection.connected()) {
      if (now < slot.retry_at && slot.failed_in == generation_.load(std::memory_order_relaxed)) {
        return fail(Errc::kIo, fmt::format("Redis is unreachable ({})", slot.last_error), name);
      }
      if (Status connected = slot.connection.connect(); !connected) {
        if (connected.error().code != Errc::kIo) return tl::unexpected(connected.error());
        slot.last_error = connected.error().message;
        slot.retry_at = now + cooldown_;
        slot.failed_in = generation_.load(std::memory_order_relaxed);
        return fail(Errc::kIo, fmt::format("Redis is unreachable ({})", slot.last_error), name);
      }
    }
    auto replies = slot.connection.pipeline(commands);
    if (replies) return replies;
    slot.last_error = replies.error().message;
  }
  slot.retry_at = now + cooldown_;
  slot.failed_in = generation_.load(std::memory_order_relaxed);
  return fail(Errc::kIo, fmt::format("Redis is unreachable ({})", slot.last_error), name);
}

}  // namespace sie::state::redis
