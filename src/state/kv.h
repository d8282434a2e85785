// EmbeddedKv: the whole key space lives in memory (edge KV holds thresholds, setpoints and
// small documents); SQLite is its durable copy, written through the batcher and loaded at open.
// Every operation runs under one mutex, so a get sees the latest put from any thread and
// compareAndSet is atomic.
//
// TTL: a key whose expiry (put time + ttl, by the injected Clock's nowNs()) has passed reads as
// absent. Expired keys are dropped lazily on access and purged from memory and SQLite about once
// a second by the writer.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "sie/metrics.h"
#include "sie/state.h"
#include "state/store_context.h"

namespace sie::state {

class EmbeddedKv final : public KvStore, public BatchSource {
 public:
  // Loads the live keys and prepares statements; call before the writer starts.
  static Result<std::unique_ptr<EmbeddedKv>> create(StoreContext& context);

  Result<std::optional<std::string>> get(std::string_view key) override;
  Status put(std::string_view key, std::string_view value,
             std::chrono::milliseconds ttl = std::chrono::milliseconds{0}) override;
  Result<bool> compareAndSet(std::string_view key, std::optional<std::string_view> expected,
                             std::string_view value,
                             std::chrono::milliseconds ttl = std::chrono::milliseconds{0}) override;
  Status erase(std::string_view key) override;

  Status writePending(Db& db) override;
  void commitDone() override;

 private:
  struct Entry {
    std::string value;
    std::int64_t expires_ns = 0;  // 0: never
  };
  struct Op {
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
    std::int64_t expires_ns = 0;
  };

  explicit EmbeddedKv(StoreContext& context);
  // The live entry for `key`, dropping it when expired; requires mu_.
  Entry* live(std::string_view key, std::int64_t now_ns);
  // Requires mu_.
  Status set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl,
             std::int64_t now_ns);

  StoreContext& context_;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  StagedWrites<Op> ops_;

  // Writer thread only.
  Stmt upsert_stmt_;
  Stmt delete_stmt_;
  Stmt purge_stmt_;
  std::int64_t next_purge_ns_ = 0;  // monotonic
  std::size_t written_ = 0;

  Counter& writes_total_;
};

}  // namespace sie::state
