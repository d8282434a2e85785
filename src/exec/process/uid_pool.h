// Worker users. While a worker runs it holds a uid (and gid) that no other worker on this machine
// holds: drawn at random, two workers could share one and then signal, trace or read each other.
// A uid is held by an flock on a file named after it in a lock folder shared by every node on the
// machine, so the kernel releases it when the worker's lease ends or its node dies.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <vector>

#include "sie/result.h"

namespace sie::process {

// Above the ranges Debian gives users, system accounts and systemd's dynamic users; below the
// subordinate ids container runtimes usually take (100000+).
inline constexpr uid_t kFirstWorkerUid = 70000;
inline constexpr uid_t kUidRange = 30000;

class UidPool {
 public:
  // Uids [first, first + size), held through lock files in `lock_dir` (made 0700).
  UidPool(uid_t first, uid_t size, std::string lock_dir);
  UidPool(const UidPool&) = delete;
  UidPool& operator=(const UidPool&) = delete;

  // The node's pool: kFirstWorkerUid.., locks in /run/sie/worker-uids (or under /tmp without
  // /run).
  static UidPool& workers();

  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    [[nodiscard]] uid_t uid() const { return uid_; }

   private:
    friend class UidPool;
    Lease(UidPool* pool, uid_t uid, int fd) : pool_(pool), uid_(uid), fd_(fd) {}
    UidPool* pool_;
    uid_t uid_;
    int fd_;
  };

  // The next free uid after the last one taken (in turn, so a uid is not reused at once);
  // kOverload when every one is held.
  Result<Lease> acquire();

 private:
  void release(uid_t uid, int fd);

  const uid_t first_;
  const uid_t size_;
  const std::string lock_dir_;
  std::mutex mu_;
  std::vector<bool> held_;  // by this process
  uid_t next_ = 0;          // offset to try first
  bool dir_ready_ = false;
};

}  // namespace sie::process
