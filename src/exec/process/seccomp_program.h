// A function's seccomp filter, compiled once by libseccomp in the node and kept as raw BPF in a
// sealed memfd; every worker's launcher reads and installs it (one seccomp call), so a cold start
// pays no filter compilation.
//
// An allowlist: the system calls that python3, node, bash with curl and a static C++ worker make
// (traced with strace -f over the process runtime's tests and examples), plus what newer C
// libraries and runtimes call for the same purposes (statx, faccessat2, close_range, rseq,
// epoll_pwait2, futex_waitv, ...). Arguments are filtered where a call can undo the sandbox:
//   socket: AF_UNIX; with spec.process.network also AF_INET/AF_INET6 and NETLINK_ROUTE; for the
//     Lambda protocol and the Dapr API only TCP streams (not MPTCP: Landlock's port rules cover
//     TCP). Other families, types and protocols answer EACCES (programs probe, e.g. curl's IPv6
//     check).
//   clone: never a namespace flag; with spec.process.processes 1 only threads. clone3 answers
//     ENOSYS (its flags are in memory a filter cannot read; libc falls back to clone).
//   io_uring_setup answers ENOSYS (it would bypass the socket checks; libuv falls back).
//   ioctl: not TIOCSTI. personality: only the queries runtimes make.
// Any other call is a violation: the kernel hands it to the node (SeccompWatch), which kills the
// worker and counts and logs it with the call's name; without the node listening, it fails with
// ENOSYS and is never executed.
#pragma once

#include <vector>

#include "exec/process/process_binding.h"
#include "sie/result.h"

namespace sie::process {

class SeccompProgram {
 public:
  static Result<SeccompProgram> build(const ProcessBinding& binding);
  SeccompProgram(SeccompProgram&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  SeccompProgram& operator=(SeccompProgram&&) = delete;
  ~SeccompProgram();

  [[nodiscard]] int fd() const { return fd_; }

 private:
  explicit SeccompProgram(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The allowlist's unconditional part, for tests and `sie doctor`.
const std::vector<const char*>& allowedSyscalls();

}  // namespace sie::process
