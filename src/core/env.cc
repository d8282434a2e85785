#include "core/env.h"

#include <unistd.h>

namespace sie {

ssize_t Env::write(int fd, const void* data, std::size_t size) const {
  return ::write(fd, data, size);
}

int Env::fsync(int fd) const { return ::fsync(fd); }

const Env& Env::system() {
  static const Env env;
  return env;
}

}  // namespace sie
