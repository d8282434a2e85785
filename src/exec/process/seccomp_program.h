// A function's seccomp filter, compiled once by libseccomp in the node and kept as raw BPF in a
// sealed memfd; every worker's launcher reads and installs it (one prctl), so a cold start pays
// no filter compilation.
//
// The filter allows everything except: kernel and namespace administration (mount, ptrace, bpf,
// kexec, modules, unshare/setns, ...), io_uring (it would bypass the socket checks), and unless
// spec.process.network: sockets other than AF_UNIX (the Lambda protocol and the Dapr API also
// keep AF_INET stream sockets, which Landlock limits to their loopback ports). With
// spec.process.processes 1 no fork/vfork/clone of a process (threads are allowed).
#pragma once

#include "sie/function.h"
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

}  // namespace sie::process
