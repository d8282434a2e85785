// RedisKv: keys as Redis strings. Writes go through the outbox; until Redis acknowledges one,
// reads of its key are answered from memory (read-your-writes, also while Redis is down).
// compareAndSet runs in Redis (a Lua script, atomic across nodes) once every earlier write has
// landed, so it needs Redis to answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "sie/clock.h"
#include "sie/state.h"
#include "state/redis/keys.h"
#include "state/redis/outbox.h"
#include "state/redis/reader.h"

namespace sie::state::redis {

class RedisKv final : public KvStore {
 public:
  RedisKv(const Keys& keys, Outbox& outbox, Reader& reader, const Clock& clock,
          std::chrono::milliseconds cas_timeout);

  Result<std::optional<std::string>> get(std::string_view key) override;
  Status put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) override;
  Result<bool> compareAndSet(std::string_view key, std::optional<std::string_view> expected,
                             std::string_view value, std::chrono::milliseconds ttl) override;
  Status erase(std::string_view key) override;

  // Outbox flusher: writes up to `seq` are in Redis; forget them here.
  void acked(std::int64_t seq);

 private:
  struct Pending {
    std::optional<std::string> value;  // nullopt: erased
    std::int64_t expires_ms = 0;       // 0: never
    std::int64_t seq = 0;
  };
  [[nodiscard]] std::int64_t nowMs() const { return clock_.nowNs() / 1'000'000; }
  Status write(std::string_view key, std::optional<std::string_view> value,
               std::chrono::milliseconds ttl);

  const Keys& keys_;
  Outbox& outbox_;
  Reader& reader_;
  const Clock& clock_;
  const std::chrono::milliseconds cas_timeout_;

  std::mutex mu_;
  std::unordered_map<std::string, Pending> pending_;
};

}  // namespace sie::state::redis
