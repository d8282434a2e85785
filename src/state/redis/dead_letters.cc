#include "state/redis/dead_letters.h"

#include <algorithm>

#include <fmt/format.h>

namespace sie::state::redis {
namespace {

// KEYS: letter, index, counter. ARGV: ts, origin, reason, subject, payload. Stores the letter
// once; returns its id (0 when it was already there).
constexpr std::string_view kPut = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'id', id, 'ts', ARGV[1], 'origin', ARGV[2], 'reason', ARGV[3],
           'subject', ARGV[4], 'payload', ARGV[5])
redis.call('ZADD', KEYS[2], id, KEYS[1])
return id
)lua";

DeadLetter decodeLetter(const Reply& hash) {
  DeadLetter letter;
  const auto& f = hash.elements;
  for (std::size_t i = 0; i + 1 < f.size(); i += 2) {
    const std::string& name = f[i].str;
    const std::string& value = f[i + 1].str;
    if (name == "id") {
      letter.id = std::atoll(value.c_str());
    } else if (name == "ts") {
      letter.ts_ns = std::atoll(value.c_str());
    } else if (name == "origin") {
      letter.origin = value;
    } else if (name == "reason") {
      letter.reason = value;
    } else if (name == "subject") {
      letter.subject = value;
    } else if (name == "payload") {
      letter.payload = value;
    }
  }
  return letter;
}

}  // namespace

RedisDeadLetters::RedisDeadLetters(const Keys& keys, Outbox& outbox, Reader& reader,
                                   std::string instance)
    : keys_(keys), outbox_(outbox), reader_(reader), instance_(std::move(instance)) {}

Status RedisDeadLetters::put(DeadLetter letter) {
  std::lock_guard lock(mu_);
  const std::string key = keys_.deadLetter(fmt::format("{}-{}", instance_, ++next_));
  const std::int64_t seq = SIE_TRY(outbox_.push(
      {"EVAL", std::string(kPut), "3", key, keys_.deadLetterIndex(), keys_.deadLetterCounter(),
       std::to_string(letter.ts_ns), letter.origin, letter.reason, letter.subject, letter.payload},
      /*refusable=*/false));
  letter.id = 0;  // Redis numbers it when it arrives
  pending_.push_back(Pending{seq, key, std::move(letter)});
  return ok();
}

Result<std::pair<Reply, std::vector<DeadLetter>>> RedisDeadLetters::snapshot(Argv first) {
  std::vector<Pending> pending;
  {
    std::lock_guard lock(mu_);
    pending.assign(pending_.rbegin(), pending_.rend());
  }
  std::vector<Argv> commands{{"MULTI"}, std::move(first)};
  for (const Pending& p : pending) commands.push_back({"EXISTS", p.key});
  commands.push_back({"EXEC"});
  std::vector<const Argv*> refs;
  for (const Argv& c : commands) refs.push_back(&c);
  auto replies = SIE_TRY(reader_.pipeline(refs));
  const Reply& exec = replies.back();
  if (exec.type != Reply::Type::kArray || exec.elements.size() != pending.size() + 1) {
    const Reply& refused = replies[1].isError() ? replies[1] : exec;
    return fail(Errc::kIo, fmt::format("dead-letter query failed: {}", refused.str),
                keys_.deadLetterIndex());
  }
  if (exec.elements[0].isError()) {
    return fail(Errc::kIo, exec.elements[0].str, keys_.deadLetterIndex());
  }
  std::vector<DeadLetter> unsent;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (exec.elements[i + 1].integer == 0) unsent.push_back(std::move(pending[i].letter));
  }
  return std::pair{exec.elements[0], std::move(unsent)};
}

Result<std::vector<DeadLetter>> RedisDeadLetters::list(std::size_t limit) {
  if (limit == 0) return std::vector<DeadLetter>{};
  auto [keys, out] = SIE_TRY(snapshot({"ZREVRANGE", keys_.deadLetterIndex(), "0",
                                       std::to_string(static_cast<std::int64_t>(limit) - 1)}));
  if (out.size() >= limit) {
    out.resize(limit);
    return out;
  }
  keys.elements.resize(std::min(keys.elements.size(), limit - out.size()));
  std::vector<Argv> commands;
  for (const Reply& key : keys.elements) commands.push_back({"HGETALL", key.str});
  std::vector<const Argv*> refs;
  for (const Argv& c : commands) refs.push_back(&c);
  auto letters = SIE_TRY(reader_.pipeline(refs));
  for (const Reply& hash : letters) {
    if (!hash.isError() && !hash.elements.empty()) out.push_back(decodeLetter(hash));
  }
  return out;
}

Result<std::int64_t> RedisDeadLetters::count() {
  auto [stored, unsent] = SIE_TRY(snapshot({"ZCARD", keys_.deadLetterIndex()}));
  return stored.integer + static_cast<std::int64_t>(unsent.size());
}

void RedisDeadLetters::acked(std::int64_t seq) {
  std::lock_guard lock(mu_);
  while (!pending_.empty() && pending_.front().seq <= seq) pending_.pop_front();
}

}  // namespace sie::state::redis
