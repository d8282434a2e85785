#include "state/kv.h"

#include <fmt/format.h>

#include "sie/config.h"

namespace sie::state {
namespace {

constexpr std::int64_t kPurgeIntervalNs = 1'000'000'000;

bool expired(std::int64_t expires_ns, std::int64_t now_ns) {
  return expires_ns != 0 && now_ns >= expires_ns;
}

}  // namespace

EmbeddedKv::EmbeddedKv(StoreContext& context)
    : context_(context),
      writes_total_(metrics().counter("sie_state_writes_total", "State writes committed",
                                      {{"kind", "kv"}})) {}

Result<std::unique_ptr<EmbeddedKv>> EmbeddedKv::create(StoreContext& context) {
  std::unique_ptr<EmbeddedKv> kv(new EmbeddedKv(context));
  Db& writer = context.batcher->db();
  const std::int64_t now = context.clock->nowNs();
  {
    Stmt load = SIE_TRY(writer.prepare("SELECT key, value, expires_ns FROM kv", "load kv"));
    while (SIE_TRY(load.step())) {
      const std::int64_t expires = load.int64(2);
      if (expired(expires, now)) continue;
      const auto value = load.blob(1);
      kv->entries_.insert_or_assign(
          std::string(load.text(0)),
          Entry{std::string(reinterpret_cast<const char*>(value.data()), value.size()), expires});
    }
  }
  kv->upsert_stmt_ = SIE_TRY(writer.prepare(
      "INSERT INTO kv(key, value, expires_ns) VALUES(?1, ?2, ?3) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_ns = excluded.expires_ns",
      "write kv"));
  kv->delete_stmt_ = SIE_TRY(writer.prepare("DELETE FROM kv WHERE key = ?1", "delete kv"));
  kv->purge_stmt_ = SIE_TRY(writer.prepare(
      "DELETE FROM kv WHERE expires_ns > 0 AND expires_ns <= ?1", "purge expired kv"));
  return kv;
}

EmbeddedKv::Entry* EmbeddedKv::live(std::string_view key, std::int64_t now_ns) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (expired(it->second.expires_ns, now_ns)) {
    entries_.erase(it);  // SQLite's copy goes with the next purge
    return nullptr;
  }
  return &it->second;
}

Status EmbeddedKv::set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl,
                       std::int64_t now_ns) {
  // The bound keeps now + ttl within int64 nanoseconds.
  if (ttl.count() < 0 || ttl > kMaxDuration) {
    return fail(Errc::kInvalidArgument,
                fmt::format("kv ttl must be from 0 to 100 years (got {} ms)", ttl.count()));
  }
  const std::int64_t expires =
      ttl.count() == 0 ? 0
                       : now_ns + std::chrono::duration_cast<std::chrono::nanoseconds>(ttl).count();
  auto [it, inserted] =
      entries_.insert_or_assign(std::string(key), Entry{std::string(value), expires});
  ops_.pending.push_back(Op{it->first, it->second.value, expires});
  context_.batcher->noteWrites(1);
  return ok();
}

Result<std::optional<std::string>> EmbeddedKv::get(std::string_view key) {
  SIE_CHECK(context_.checkOpen());
  std::lock_guard lock(mu_);
  const Entry* entry = live(key, context_.clock->nowNs());
  if (entry == nullptr) return std::optional<std::string>();
  return std::optional<std::string>(entry->value);
}

Status EmbeddedKv::put(std::string_view key, std::string_view value,
                       std::chrono::milliseconds ttl) {
  SIE_CHECK(context_.checkOpen());
  std::lock_guard lock(mu_);
  return set(key, value, ttl, context_.clock->nowNs());
}

Result<bool> EmbeddedKv::compareAndSet(std::string_view key,
                                       std::optional<std::string_view> expected,
                                       std::string_view value, std::chrono::milliseconds ttl) {
  SIE_CHECK(context_.checkOpen());
  std::lock_guard lock(mu_);
  const std::int64_t now = context_.clock->nowNs();
  const Entry* current = live(key, now);
  const bool matches =
      expected ? current != nullptr && current->value == *expected : current == nullptr;
  if (!matches) return false;
  SIE_CHECK(set(key, value, ttl, now));
  return true;
}

Status EmbeddedKv::erase(std::string_view key) {
  SIE_CHECK(context_.checkOpen());
  std::lock_guard lock(mu_);
  // Deleted in SQLite even when absent here: an expired copy may still be stored.
  if (auto it = entries_.find(key); it != entries_.end()) entries_.erase(it);
  ops_.pending.push_back(Op{std::string(key), std::nullopt, 0});
  context_.batcher->noteWrites(1);
  return ok();
}

Status EmbeddedKv::writePending(Db& /*db*/) {
  written_ = 0;
  {
    std::lock_guard lock(mu_);
    ops_.take();
  }
  // In acceptance order, so the last write to a key wins in SQLite as it did in memory.
  for (const Op& op : ops_.in_flight) {
    if (op.value) {
      SIE_CHECK(upsert_stmt_.bindText(1, op.key)
                    .bindBlob(2, op.value->data(), op.value->size())
                    .bind(3, op.expires_ns)
                    .run());
    } else {
      SIE_CHECK(delete_stmt_.bindText(1, op.key).run());
    }
  }
  written_ = ops_.in_flight.size();

  const std::int64_t mono = context_.clock->monotonicNs();
  if (mono >= next_purge_ns_) {
    next_purge_ns_ = mono + kPurgeIntervalNs;
    const std::int64_t now = context_.clock->nowNs();
    SIE_CHECK(purge_stmt_.bind(1, now).run());
    std::lock_guard lock(mu_);
    std::erase_if(entries_, [&](const auto& item) { return expired(item.second.expires_ns, now); });
  }
  return ok();
}

void EmbeddedKv::commitDone() {
  {
    std::lock_guard lock(mu_);
    ops_.committed();
  }
  writes_total_.inc(written_);
}

}  // namespace sie::state
