#include "exec/process/uid_pool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include <fmt/format.h>

namespace sie::process {

UidPool::UidPool(uid_t first, uid_t size, std::string lock_dir)
    : first_(first),
      size_(size),
      lock_dir_(std::move(lock_dir)),
      held_(size, false),
      // Nodes on one machine start apart, so they rarely contend for the same lock files.
      next_(static_cast<uid_t>(std::random_device{}() % size)) {}

UidPool& UidPool::workers() {
  static UidPool pool(
      kFirstWorkerUid, kUidRange,
      std::filesystem::is_directory("/run") ? "/run/sie/worker-uids" : "/tmp/sie-worker-uids");
  return pool;
}

Result<UidPool::Lease> UidPool::acquire() {
  std::lock_guard lock(mu_);
  if (!dir_ready_) {
    std::error_code ec;
    std::filesystem::create_directories(lock_dir_, ec);
    if (ec || ::chmod(lock_dir_.c_str(), 0700) != 0) {
      return fail(Errc::kIo,
                  fmt::format("cannot prepare the worker uid locks: {}",
                              ec ? ec.message() : std::strerror(errno)),
                  lock_dir_);
    }
    dir_ready_ = true;
  }
  for (uid_t tried = 0; tried < size_; ++tried) {
    const uid_t offset = (next_ + tried) % size_;
    if (held_[offset]) continue;
    const uid_t uid = first_ + offset;
    const std::string path = fmt::format("{}/{}", lock_dir_, uid);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      return fail(Errc::kIo, fmt::format("cannot open a uid lock: {}", std::strerror(errno)), path);
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {  // another node's worker has it
      ::close(fd);
      continue;
    }
    held_[offset] = true;
    next_ = (offset + 1) % size_;
    return Lease(this, uid, fd);
  }
  return fail(Errc::kOverload,
              fmt::format("all {} worker uids from {} are in use; stop workers or functions", size_,
                          first_));
}

void UidPool::release(uid_t uid, int fd) {
  std::lock_guard lock(mu_);
  ::close(fd);  // drops the flock
  held_[uid - first_] = false;
}

UidPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), uid_(other.uid_), fd_(other.fd_) {
  other.pool_ = nullptr;
}

UidPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->release(uid_, fd_);
}

}  // namespace sie::process
