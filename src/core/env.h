// The system calls that make a file durable, behind one seam. The node's durable writers (desired
// state, artifacts, keys and trust, audit checkpoints, the site CA) go through an Env; tests give
// them one that fails like a full disk (write: ENOSPC) or a failing device (fsync: EIO) and check
// that each answers with a clean error and leaves what was there before.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace sie {

class Env {
 public:
  virtual ~Env() = default;
  // As write(2) and fsync(2): -1 with errno set on failure.
  virtual ssize_t write(int fd, const void* data, std::size_t size) const;
  virtual int fsync(int fd) const;

  // The system's: the calls themselves.
  static const Env& system();
};

}  // namespace sie
