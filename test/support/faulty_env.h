// Test helper: an Env that fails like a full disk or a failing device, to show that each durable
// writer answers with a clean error and leaves what was there before.
#pragma once

#include <cerrno>
#include <cstddef>

#include "core/env.h"

namespace sie::testing {

class FaultyEnv : public Env {
 public:
  // Writes take at most this many bytes in all, then fail with ENOSPC.
  void diskFullAfter(std::size_t bytes) { room_ = bytes; }
  // From now on every fsync fails with EIO.
  void failSyncs() { failSyncsAfter(0); }
  // The next `n` fsyncs work, every later one fails with EIO.
  void failSyncsAfter(std::size_t n) { syncs_left_ = n; }
  // Everything works again.
  void heal() {
    room_ = kNoLimit;
    syncs_left_ = kNoLimit;
  }

  ssize_t write(int fd, const void* data, std::size_t size) const override {
    if (room_ == 0) {
      errno = ENOSPC;
      return -1;
    }
    const std::size_t n = size < room_ ? size : room_;
    const ssize_t written = Env::write(fd, data, n);
    if (written > 0 && room_ != kNoLimit) room_ -= static_cast<std::size_t>(written);
    return written;
  }
  int fsync(int fd) const override {
    if (syncs_left_ == 0) {
      errno = EIO;
      return -1;
    }
    if (syncs_left_ != kNoLimit) --syncs_left_;
    return Env::fsync(fd);
  }

 private:
  static constexpr std::size_t kNoLimit = static_cast<std::size_t>(-1);
  mutable std::size_t room_ = kNoLimit;
  mutable std::size_t syncs_left_ = kNoLimit;
};

}  // namespace sie::testing
