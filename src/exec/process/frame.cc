#include "exec/process/frame.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "sie/clock.h"

namespace sie::process {
namespace {

// Waits for `events` on fd until the deadline; false on timeout.
Result<bool> await(int fd, short events, std::int64_t deadline_ns) {
  for (;;) {
    const std::int64_t left_ns = deadline_ns - monotonicNs();
    if (left_ns <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, static_cast<int>((left_ns + 999'999) / 1'000'000));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR)
      return fail(Errc::kIo, fmt::format("poll: {}", std::strerror(errno)));
  }
}

Status writeAll(int fd, const char* data, std::size_t size, std::int64_t deadline_ns) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!SIE_TRY(await(fd, POLLOUT, deadline_ns))) {
        return fail(Errc::kTimeout, "the worker did not read its channel in time");
      }
      continue;
    }
    return fail(Errc::kIo,
                fmt::format("the worker's channel is closed ({})", std::strerror(errno)));
  }
  return ok();
}

Status readAll(int fd, char* data, std::size_t size, std::int64_t deadline_ns) {
  while (size > 0) {
    const ssize_t n = read(fd, data, size);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) return fail(Errc::kIo, "the worker closed its channel");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!SIE_TRY(await(fd, POLLIN, deadline_ns))) {
        return fail(Errc::kTimeout, "the worker did not answer in time");
      }
      continue;
    }
    return fail(Errc::kIo, fmt::format("reading the worker's channel: {}", std::strerror(errno)));
  }
  return ok();
}

}  // namespace

Status writeFrame(int fd, char type, std::string_view body, std::int64_t deadline_ns) {
  if (body.size() > kMaxFrameBytes) {
    return fail(Errc::kInvalidArgument,
                fmt::format("frame of {} bytes exceeds {} bytes", body.size(), kMaxFrameBytes));
  }
  const auto n = static_cast<std::uint32_t>(body.size());
  std::string frame;
  frame.reserve(5 + body.size());
  for (int i = 0; i < 4; ++i) frame += static_cast<char>((n >> (8 * i)) & 0xff);
  frame += type;
  frame += body;
  return writeAll(fd, frame.data(), frame.size(), deadline_ns);
}

Result<Frame> readFrame(int fd, std::int64_t deadline_ns) {
  unsigned char header[5];
  SIE_CHECK(readAll(fd, reinterpret_cast<char*>(header), sizeof(header), deadline_ns));
  const std::uint32_t n = header[0] | (header[1] << 8) | (header[2] << 16) |
                          (static_cast<std::uint32_t>(header[3]) << 24);
  if (n > kMaxFrameBytes) {
    return fail(Errc::kParse,
                fmt::format("the worker sent a frame of {} bytes (limit {})", n, kMaxFrameBytes));
  }
  Frame frame;
  frame.type = static_cast<char>(header[4]);
  frame.body.resize(n);
  SIE_CHECK(readAll(fd, frame.body.data(), n, deadline_ns));
  return frame;
}

}  // namespace sie::process
