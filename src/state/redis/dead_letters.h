// RedisDeadLetters: each letter a hash under its own key, indexed by a sorted set of ids that
// Redis assigns. The letter's key is chosen here (node instance + counter), so replaying its
// write after an outage cannot store it twice. Letters not yet in Redis are listed from memory.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>

#include "sie/state.h"
#include "state/redis/keys.h"
#include "state/redis/outbox.h"
#include "state/redis/reader.h"

namespace sie::state::redis {

class RedisDeadLetters final : public DeadLetterStore {
 public:
  RedisDeadLetters(const Keys& keys, Outbox& outbox, Reader& reader, std::string instance);

  Status put(DeadLetter letter) override;
  Result<std::vector<DeadLetter>> list(std::size_t limit) override;
  Result<std::int64_t> count() override;

  // Outbox flusher: writes up to `seq` are in Redis.
  void acked(std::int64_t seq);

 private:
  const Keys& keys_;
  Outbox& outbox_;
  Reader& reader_;
  const std::string instance_;

  std::mutex mu_;
  std::uint64_t next_ = 0;
  struct Pending {
    std::int64_t seq = 0;
    std::string key;
    DeadLetter letter;
  };
  // One atomic view: `first` (ZREVRANGE or ZCARD) with the pending letters Redis does not hold
  // yet, newest first, so a letter landing meanwhile is neither missed nor counted twice.
  Result<std::pair<Reply, std::vector<DeadLetter>>> snapshot(Argv first);

  std::deque<Pending> pending_;  // oldest first
};

}  // namespace sie::state::redis
