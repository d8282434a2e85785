#include "state/redis/connection.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <utility>

#include <fmt/format.h>

namespace sie::state::redis {
namespace {

timeval toTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

Reply copyReply(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(copyReply(*r.element[i]));
      break;
    default:
      out.type = Reply::Type::kNil;
  }
  return out;
}

// Appends one command to the connection's output buffer.
int append(redisContext* context, const Argv& argv) {
  std::vector<const char*> parts;
  std::vector<std::size_t> sizes;
  parts.reserve(argv.size());
  sizes.reserve(argv.size());
  for (const auto& a : argv) {
    parts.push_back(a.data());
    sizes.push_back(a.size());
  }
  return redisAppendCommandArgv(context, static_cast<int>(argv.size()), parts.data(), sizes.data());
}

}  // namespace

std::string Endpoint::name() const { return fmt::format("redis {}:{}/{}", host, port, db); }

Connection::Connection(Endpoint endpoint) : endpoint_(std::move(endpoint)) {}

Connection::Connection(Connection&& other) noexcept
    : endpoint_(std::move(other.endpoint_)), context_(std::exchange(other.context_, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    disconnect();
    endpoint_ = std::move(other.endpoint_);
    context_ = std::exchange(other.context_, nullptr);
  }
  return *this;
}

Connection::~Connection() { disconnect(); }

void Connection::disconnect() {
  if (context_ != nullptr) redisFree(std::exchange(context_, nullptr));
}

Error Connection::transportError(std::string_view what) {
  std::string reason = context_ != nullptr && context_->err != 0 ? context_->errstr : "no reply";
  disconnect();
  return Error{Errc::kIo, fmt::format("{}: {}", what, reason), endpoint_.name()};
}

Status Connection::connect() {
  disconnect();
  const timeval tv = toTimeval(endpoint_.timeout);
  context_ = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv);
  if (context_ == nullptr) {
    return fail(Errc::kIo, "cannot allocate a redis connection", endpoint_.name());
  }
  if (context_->err != 0) return tl::unexpected(transportError("cannot connect"));
  if (redisSetTimeout(context_, tv) != REDIS_OK) {
    return tl::unexpected(transportError("cannot set the reply timeout"));
  }
  (void)redisEnableKeepAlive(context_);
  if (!endpoint_.password.empty()) {
    auto auth = SIE_TRY(run(endpoint_.username.empty()
                                ? Argv{"AUTH", endpoint_.password}
                                : Argv{"AUTH", endpoint_.username, endpoint_.password}));
    if (auth.isError()) {
      disconnect();
      return fail(Errc::kInvalidArgument,
                  fmt::format("authentication refused: {} (check the password)", auth.str),
                  endpoint_.name());
    }
  }
  if (endpoint_.db != 0) {
    auto select = SIE_TRY(run({"SELECT", std::to_string(endpoint_.db)}));
    if (select.isError()) {
      disconnect();
      return fail(Errc::kInvalidArgument,
                  fmt::format("cannot select database {}: {}", endpoint_.db, select.str),
                  endpoint_.name());
    }
  }
  return ok();
}

Result<Reply> Connection::run(const Argv& argv) {
  const Argv* one[] = {&argv};
  auto replies = SIE_TRY(pipeline(one));
  return std::move(replies.front());
}

Result<std::vector<Reply>> Connection::pipeline(std::span<const Argv* const> commands) {
  if (context_ == nullptr) return fail(Errc::kIo, "not connected", endpoint_.name());
  for (const Argv* argv : commands) {
    if (append(context_, *argv) != REDIS_OK) {
      return tl::unexpected(transportError("cannot queue a command"));
    }
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
      return tl::unexpected(transportError("connection lost"));
    }
    auto* reply = static_cast<redisReply*>(raw);
    replies.push_back(copyReply(*reply));
    freeReplyObject(reply);
  }
  return replies;
}

}  // namespace sie::state::redis
