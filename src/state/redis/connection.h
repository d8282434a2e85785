// A synchronous connection to one Redis server (hiredis), with pipelining. Not thread-safe: one
// thread at a time. Every failure names the server; a dropped connection stays dropped until
// connect() is called again, so callers decide when to retry.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sie/result.h"

struct redisContext;

namespace sie::state::redis {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;                     // "" = the default user
  std::string password;                     // "" = no AUTH
  std::chrono::milliseconds timeout{1000};  // connect and per-reply

  [[nodiscard]] std::string name() const;  // "redis 127.0.0.1:6379/0"
};

// A reply, copied out of hiredis so it outlives the connection's buffers.
struct Reply {
  enum class Type { kString, kArray, kInteger, kNil, kStatus, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  std::int64_t integer = 0;
  std::vector<Reply> elements;  // kArray

  [[nodiscard]] bool isError() const { return type == Type::kError; }
};

using Argv = std::vector<std::string>;

class Connection {
 public:
  Connection() = default;
  explicit Connection(Endpoint endpoint);
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Connects (closing any previous connection), authenticates and selects the database.
  Status connect();
  [[nodiscard]] bool connected() const { return context_ != nullptr; }
  void disconnect();

  // One command. Error replies come back as replies; only transport failures are errors (and
  // drop the connection).
  Result<Reply> run(const Argv& argv);
  // Sends every command, then reads every reply, in one round trip.
  Result<std::vector<Reply>> pipeline(std::span<const Argv* const> commands);

  [[nodiscard]] const Endpoint& endpoint() const { return endpoint_; }

 private:
  Error transportError(std::string_view what);

  Endpoint endpoint_;
  redisContext* context_ = nullptr;
};

}  // namespace sie::state::redis
