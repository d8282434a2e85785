#include "state/redis/kv.h"

#include <fmt/format.h>

#include "sie/config.h"

namespace sie::state::redis {
namespace {

// KEYS[1] key; ARGV: expect-absent flag, expected value, new value, absolute expiry in ms (0 =
// none). Returns 1 when it wrote.
constexpr std::string_view kCompareAndSet = R"lua(
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
if ARGV[4] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[3], 'PXAT', ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[3])
end
return 1
)lua";

Status checkTtl(std::chrono::milliseconds ttl) {
  if (ttl.count() < 0 || ttl > kMaxDuration) {
    return fail(Errc::kInvalidArgument,
                fmt::format("ttl must be from 0 ms to 100 years (got {} ms; 0 = never expires)",
                            ttl.count()));
  }
  return ok();
}

}  // namespace

RedisKv::RedisKv(const Keys& keys, Outbox& outbox, Reader& reader, const Clock& clock,
                 std::chrono::milliseconds cas_timeout)
    : keys_(keys), outbox_(outbox), reader_(reader), clock_(clock), cas_timeout_(cas_timeout) {}

Result<std::optional<std::string>> RedisKv::get(std::string_view key) {
  {
    std::lock_guard lock(mu_);
    if (auto it = pending_.find(std::string(key)); it != pending_.end()) {
      const Pending& p = it->second;
      if (p.expires_ms != 0 && p.expires_ms <= nowMs()) return std::optional<std::string>{};
      return p.value;
    }
  }
  const std::string redis_key = keys_.kv(key);
  auto reply = SIE_TRY(reader_.run({"GET", redis_key}));
  if (reply.isError()) return fail(Errc::kIo, reply.str, redis_key);
  if (reply.type == Reply::Type::kNil) return std::optional<std::string>{};
  return std::optional<std::string>(std::move(reply.str));
}

Status RedisKv::write(std::string_view key, std::optional<std::string_view> value,
                      std::chrono::milliseconds ttl) {
  const std::int64_t expires_ms = ttl.count() > 0 ? nowMs() + ttl.count() : 0;
  Argv argv;
  if (value) {
    argv = {"SET", keys_.kv(key), std::string(*value)};
    // An absolute expiry, so a write replayed after an outage does not live longer.
    if (expires_ms != 0) argv.insert(argv.end(), {"PXAT", std::to_string(expires_ms)});
  } else {
    argv = {"DEL", keys_.kv(key)};
  }
  std::lock_guard lock(mu_);  // held across push so acked() cannot run between the two
  const std::int64_t seq = SIE_TRY(outbox_.push(std::move(argv), /*refusable=*/false));
  pending_[std::string(key)] =
      Pending{value ? std::optional<std::string>(*value) : std::nullopt, expires_ms, seq};
  return ok();
}

Status RedisKv::put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
  SIE_CHECK(checkTtl(ttl));
  return write(key, value, ttl);
}

Status RedisKv::erase(std::string_view key) { return write(key, std::nullopt, {}); }

Result<bool> RedisKv::compareAndSet(std::string_view key, std::optional<std::string_view> expected,
                                    std::string_view value, std::chrono::milliseconds ttl) {
  SIE_CHECK(checkTtl(ttl));
  const std::int64_t landed = SIE_TRY(outbox_.barrier(cas_timeout_));
  const std::int64_t expires_ms = ttl.count() > 0 ? nowMs() + ttl.count() : 0;
  const std::string redis_key = keys_.kv(key);
  auto reply = SIE_TRY(reader_.run({"EVAL", std::string(kCompareAndSet), "1", redis_key,
                                    expected ? "0" : "1", std::string(expected.value_or("")),
                                    std::string(value), std::to_string(expires_ms)}));
  if (reply.isError()) return fail(Errc::kIo, reply.str, redis_key);
  // Every write before the barrier is in Redis, so what memory remembers of this key is stale.
  std::lock_guard lock(mu_);
  if (auto it = pending_.find(std::string(key)); it != pending_.end() && it->second.seq <= landed) {
    pending_.erase(it);
  }
  return reply.integer == 1;
}

void RedisKv::acked(std::int64_t seq) {
  std::lock_guard lock(mu_);
  std::erase_if(pending_, [seq](const auto& entry) { return entry.second.seq <= seq; });
}

}  // namespace sie::state::redis
