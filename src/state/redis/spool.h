// Spool: Redis commands the node accepted while Redis was out of reach, kept in order in a local
// SQLite file (<data_dir>/redis-spool.db) until Redis acknowledges them. Every write is fsynced,
// so a spooled command survives a crash of the node and is replayed when it restarts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sie/result.h"
#include "state/redis/connection.h"
#include "state/sqlite_db.h"

namespace sie::state::redis {

// A command with its place in the node's write order.
struct Op {
  std::int64_t seq = 0;
  Argv argv;
};

class Spool {
 public:
  static Result<Spool> open(const std::string& path);

  // Appends ops (ascending seq) in one fsynced transaction.
  Status write(std::span<const Op> ops);
  // The oldest `limit` ops, oldest first.
  Result<std::vector<Op>> read(std::size_t limit);
  // Forgets every op with seq <= last.
  Status erase(std::int64_t last);

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] std::int64_t lastSeq() const { return last_seq_; }  // 0 when never used

 private:
  explicit Spool(Db db) : db_(std::move(db)) {}
  Status prepare();

  Db db_;
  Stmt insert_;
  Stmt select_;
  Stmt erase_;
  std::size_t size_ = 0;
  std::int64_t last_seq_ = 0;
};

// Argv <-> bytes: a count, then each part with its length (little-endian u32s).
std::string encodeArgv(const Argv& argv);
Result<Argv> decodeArgv(std::span<const std::byte> bytes);

}  // namespace sie::state::redis
