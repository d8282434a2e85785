// CommitLock: a shared mutex that prefers the writer. Readers hold it shared for the length of a
// SQLite query; with glibc's default reader preference a steady stream of such readers could
// keep the writer from ever committing. Satisfies SharedMutex, so std::shared_lock and
// std::unique_lock work with it. Not recursive: a thread must not take it twice.
#pragma once

#include <pthread.h>

namespace sie::state {

class CommitLock {
 public:
  CommitLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  CommitLock(const CommitLock&) = delete;
  CommitLock& operator=(const CommitLock&) = delete;
  ~CommitLock() { pthread_rwlock_destroy(&lock_); }

  // The standard SharedMutex names.
  // NOLINTBEGIN(readability-identifier-naming)
  void lock() { pthread_rwlock_wrlock(&lock_); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  // NOLINTEND(readability-identifier-naming)

 private:
  pthread_rwlock_t lock_;
};

}  // namespace sie::state
