// The native protocol's framing on the worker's channel (a Unix stream socket at fd 3):
//   [u32 little-endian body length][u8 type][body]
// Types: 'H' hello (worker ready, JSON), 'F' init failed (text), 'B' invoke with binary windows
// and 'I' invoke in JSON (node → worker, wire.h), 'R' result (JSON), 'E' error (JSON
// {"errorMessage", "errorType"} or text).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sie/result.h"

namespace sie::process {

inline constexpr std::uint32_t kMaxFrameBytes = 16U << 20;

struct Frame {
  char type = 0;
  std::string body;
};

// Both wait at most until deadline_ns (monotonicNs()) on a non-blocking fd: a timeout is
// Errc::kTimeout, a closed channel Errc::kIo.
Status writeFrame(int fd, char type, std::string_view body, std::int64_t deadline_ns);
Result<Frame> readFrame(int fd, std::int64_t deadline_ns);

}  // namespace sie::process
