// Reader: the connections the Redis backend reads through (a few, so worker threads do not queue
// behind one another). After a failure it answers at once with the last error for a short
// cooldown instead of making every caller wait for a connect timeout.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "sie/result.h"
#include "state/redis/connection.h"

namespace sie::state::redis {

class Reader {
 public:
  Reader(const Endpoint& endpoint, std::chrono::milliseconds cooldown);

  Result<Reply> run(const Argv& argv);
  Result<std::vector<Reply>> pipeline(std::span<const Argv* const> commands);
  // Redis answered someone else (the outbox): end every cooldown.
  void wake() { generation_.fetch_add(1, std::memory_order_relaxed); }

 private:
  struct Slot {
    std::mutex mu;
    Connection connection;
    std::chrono::steady_clock::time_point retry_at{};
    std::string last_error;
    std::uint64_t failed_in = 0;  // the generation of the last failure
  };
  static constexpr std::size_t kSlots = 4;

  Slot& pick();
  // Connects when needed; runs `commands`; after a dropped connection, reconnects and retries
  // once (the server may have restarted since the last call).
  Result<std::vector<Reply>> attempt(Slot& slot, std::span<const Argv* const> commands);

  std::chrono::milliseconds cooldown_;
  std::atomic<std::uint64_t> generation_{0};
  std::array<Slot, kSlots> slots_;
};

}  // namespace sie::state::redis
