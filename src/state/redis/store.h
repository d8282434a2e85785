// The Redis state backend: time series, KV and dead letters in Redis, shared by every node that
// points at the same server and prefix; the audit chain stays in the node's data directory (it
// is this node's own tamper-evident record).
//
// Writes are accepted at once and reach Redis through the outbox (pipelined, in order). While
// Redis is unreachable the node keeps working: windows come from memory, KV reads see the
// node's own writes, and sync() keeps accepted writes in a local fsynced spool that is replayed,
// in order, when Redis answers again. What needs Redis itself (compare-and-set, reads of keys
// this node did not write, windows older than memory) fails with a clear error meanwhile.
//
// Durability: sync() returns once every earlier write is acknowledged by Redis or spooled. How
// long Redis keeps what it acknowledged is Redis's own setting (appendonly yes with appendfsync
// always keeps everything through a crash of Redis; everysec may lose its last second).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "sie/audit_seal.h"
#include "sie/clock.h"
#include "sie/result.h"
#include "sie/state.h"
#include "state/redis/connection.h"

namespace sie::state::redis {

struct RedisOptions {
  Endpoint endpoint;
  std::string prefix = "sie";  // every key starts with "<prefix>:"
  std::string data_dir;        // the local audit chain and the spool
  std::size_t memory_window = 2048;
  std::size_t max_readings = 100'000;  // stream length kept per sensor
  std::size_t max_pending = std::size_t{1} << 20;
  std::chrono::milliseconds batch_interval{20};  // the local audit chain's commit interval
  std::chrono::milliseconds reconnect_max{2000};
  const Clock* clock = nullptr;  // nullptr = systemClock(); KV expiry is absolute wall time
  std::optional<AuditSealOptions> audit_seal;  // the local audit chain's checkpoints
};

// The spool file inside a data directory.
std::string spoolPath(const std::string& data_dir);

// Opens the backend. Redis being down is not an error (the node starts and spools); a refused
// password or database is.
Result<std::unique_ptr<StateStore>> openRedis(const RedisOptions& options);

}  // namespace sie::state::redis
