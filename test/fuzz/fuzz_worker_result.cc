// libFuzzer target: what a worker process sends the node, read as the node reads it: native
// frames from the worker's channel (process::readFrame), then each frame's body as a result
// (process::parseResult, also the Lambda runtime API's response body) and as an error
// (process::errorText). Frames must read back exactly the bytes sent; a result is accepted only
// with the shape the node relies on (kv keys named, a TTL the state can hold, event data as JSON).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json_text.h"
#include "exec/process/frame.h"
#include "exec/process/wire.h"
#include "sie/clock.h"
#include "sie/config.h"

namespace {

void check(bool holds) {
  if (!holds) std::abort();
}

void checkBody(std::string_view body) {
  (void)sie::process::errorText(body);
  auto result = sie::process::parseResult(body);
  if (!result) {
    check(!result.error().message.empty());
    return;
  }
  for (const auto& write : result->kv_writes) {
    check(!write.key.empty());
    check(write.ttl.count() >= 0 && write.ttl <= sie::kMaxDuration);
  }
  for (const auto& event : result->events) {
    check(!sie::parseJsonOrDiscarded(event.data).is_discarded());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view sent(reinterpret_cast<const char*>(data), size);
  // The whole input as one body, then as the channel's bytes.
  checkBody(sent);
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  const ssize_t written = ::send(fds[1], sent.data(), sent.size(), MSG_NOSIGNAL);
  const std::string_view channel = sent.substr(0, written > 0 ? written : 0);
  ::shutdown(fds[1], SHUT_WR);
  std::size_t read = 0;
  for (;;) {
    auto frame = sie::process::readFrame(fds[0], sie::monotonicNs() + 1'000'000'000);
    if (!frame) {
      check(!frame.error().message.empty());
      break;
    }
    // [u32 little-endian length][type][body], as sent.
    const std::size_t n = frame->body.size();
    check(n <= sie::process::kMaxFrameBytes && read + 5 + n <= channel.size());
    for (int i = 0; i < 4; ++i) {
      check(static_cast<unsigned char>(channel[read + i]) == ((n >> (8 * i)) & 0xff));
    }
    check(channel[read + 4] == frame->type && channel.substr(read + 5, n) == frame->body);
    read += 5 + n;
    checkBody(frame->body);
  }
  ::close(fds[0]);
  ::close(fds[1]);
  return 0;
}
