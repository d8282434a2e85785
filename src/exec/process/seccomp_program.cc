#include "exec/process/seccomp_program.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace sie::process {
namespace {

using Ctx = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

// Namespaces a clone must not create: a new user or network namespace undoes the sandbox's
// view of users and sockets.
constexpr scmp_datum_t kNamespaceFlags = CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID |
                                         CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
constexpr scmp_datum_t kSocketType = 0xf;  // SOCK_CLOEXEC and SOCK_NONBLOCK are above it
constexpr unsigned long kPersonalityQuery = 0xffffffff;

Status check(int rc, const char* what) {
  if (rc == 0) return ok();
  return fail(Errc::kInternal,
              fmt::format("building the seccomp filter ({}): {}", what, std::strerror(-rc)));
}

Status allow(scmp_filter_ctx ctx, int nr, const char* what,
             std::initializer_list<scmp_arg_cmp> args) {
  return check(seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, static_cast<unsigned>(args.size()),
                                      args.begin()),
               what);
}

Status refuse(scmp_filter_ctx ctx, int error, int nr, const char* what,
              std::initializer_list<scmp_arg_cmp> args) {
  return check(seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(static_cast<std::uint32_t>(error)), nr,
                                      static_cast<unsigned>(args.size()), args.begin()),
               what);
}

// socket(): see the header. Every family, type and protocol the rules below do not allow is
// refused with EACCES rather than treated as a violation: programs probe what they may use.
// One rule per family: libseccomp takes one comparison per argument and rule.
Status sockets(scmp_filter_ctx ctx, const ProcessBinding& binding) {
  const int nr = SCMP_SYS(socket);
  const bool tcp = !binding.network && (binding.protocol == ProcessBinding::Protocol::kLambda ||
                                        !binding.loopback_ports.empty());
  for (scmp_datum_t family = 0; family < AF_MAX; ++family) {
    if (family == AF_UNIX) {
      SIE_CHECK(allow(ctx, nr, "socket unix", {SCMP_A0(SCMP_CMP_EQ, family)}));
    } else if (binding.network && (family == AF_INET || family == AF_INET6)) {
      SIE_CHECK(allow(ctx, nr, "socket inet", {SCMP_A0(SCMP_CMP_EQ, family)}));
    } else if (binding.network && family == AF_NETLINK) {  // getifaddrs, getaddrinfo
      SIE_CHECK(allow(ctx, nr, "socket netlink",
                      {SCMP_A0(SCMP_CMP_EQ, family), SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE)}));
      SIE_CHECK(refuse(ctx, EACCES, nr, "socket netlink",
                       {SCMP_A0(SCMP_CMP_EQ, family), SCMP_A2(SCMP_CMP_NE, NETLINK_ROUTE)}));
    } else if (tcp && family == AF_INET) {
      SIE_CHECK(allow(
          ctx, nr, "socket tcp",
          {SCMP_A0(SCMP_CMP_EQ, family), SCMP_A1(SCMP_CMP_MASKED_EQ, kSocketType, SOCK_STREAM),
           SCMP_A2(SCMP_CMP_LE, IPPROTO_TCP)}));
      // MPTCP and every other stream protocol: Landlock's port rules cover TCP only.
      SIE_CHECK(refuse(
          ctx, EACCES, nr, "socket protocol",
          {SCMP_A0(SCMP_CMP_EQ, family), SCMP_A1(SCMP_CMP_MASKED_EQ, kSocketType, SOCK_STREAM),
           SCMP_A2(SCMP_CMP_GT, IPPROTO_TCP)}));
      for (const scmp_datum_t type :
           {SOCK_DGRAM, SOCK_RAW, SOCK_RDM, SOCK_SEQPACKET, SOCK_DCCP, SOCK_PACKET}) {
        SIE_CHECK(
            refuse(ctx, EACCES, nr, "socket type",
                   {SCMP_A0(SCMP_CMP_EQ, family), SCMP_A1(SCMP_CMP_MASKED_EQ, kSocketType, type)}));
      }
    } else {
      SIE_CHECK(refuse(ctx, EACCES, nr, "socket family", {SCMP_A0(SCMP_CMP_EQ, family)}));
    }
  }
  return refuse(ctx, EACCES, nr, "socket family", {SCMP_A0(SCMP_CMP_GE, AF_MAX)});
}

Status processes(scmp_filter_ctx ctx, const ProcessBinding& binding) {
  // clone3 passes its flags in memory the filter cannot read: ENOSYS makes libc fall back to
  // clone, whose flags it can.
  SIE_CHECK(refuse(ctx, ENOSYS, SCMP_SYS(clone3), "clone3", {}));
  if (binding.processes <= 1) {
    SIE_CHECK(allow(ctx, SCMP_SYS(clone), "clone threads",
                    {SCMP_A0(SCMP_CMP_MASKED_EQ, kNamespaceFlags | CLONE_THREAD, CLONE_THREAD)}));
    return ok();
  }
  SIE_CHECK(
      allow(ctx, SCMP_SYS(clone), "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, kNamespaceFlags, 0)}));
  for (const char* name : {"fork", "vfork"}) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr != __NR_SCMP_ERROR) SIE_CHECK(allow(ctx, nr, name, {}));
  }
  return ok();
}

}  // namespace

const std::vector<const char*>& allowedSyscalls() {
  // Grouped by purpose, several to a line.
  // clang-format off
  static const std::vector<const char*> names = {
      // memory, threads, the process itself
      "brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "mincore", "msync", "membarrier",
      "pkey_alloc", "pkey_free", "pkey_mprotect", "get_mempolicy", "arch_prctl", "set_tid_address",
      "set_robust_list", "get_robust_list", "rseq", "futex", "futex_waitv", "exit", "exit_group",
      "execve", "execveat", "wait4", "waitid", "prctl", "prlimit64", "getrlimit", "setrlimit",
      "getrusage", "times", "sysinfo", "uname", "capget", "getrandom", "restart_syscall",
      "memfd_create", "seccomp", "landlock_create_ruleset", "landlock_add_rule",
      "landlock_restrict_self", "close_range",
      // scheduling
      "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
      "sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min",
      "sched_rr_get_interval", "getpriority", "setpriority", "getcpu",
      // identity (read only)
      "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getresuid",
      "getresgid", "getgroups", "getpgrp", "getpgid", "getsid", "umask",
      // signals and time
      "kill", "tkill", "tgkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
      "rt_sigtimedwait", "rt_sigsuspend", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack",
      "pause", "pidfd_open", "pidfd_send_signal", "nanosleep", "clock_nanosleep", "clock_gettime",
      "clock_getres", "gettimeofday", "time", "alarm", "getitimer", "setitimer", "timer_create",
      "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete", "timerfd_create",
      "timerfd_settime", "timerfd_gettime",
      // files (Landlock decides which)
      "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
      "pwritev2", "open", "openat", "openat2", "creat", "close", "lseek", "stat", "fstat", "lstat",
      "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat", "faccessat2", "readlink",
      "readlinkat", "getcwd", "chdir", "fchdir", "getdents", "getdents64", "mkdir", "mkdirat",
      "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2", "link", "linkat", "symlink",
      "symlinkat", "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat", "utime",
      "utimes", "utimensat", "futimesat", "truncate", "ftruncate", "fallocate", "fsync",
      "fdatasync", "sync_file_range", "flock", "fcntl", "fadvise64", "readahead", "copy_file_range",
      "sendfile", "splice", "tee", "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr",
      "flistxattr",
      // descriptors, polling, pipes
      "dup", "dup2", "dup3", "pipe", "pipe2", "select", "pselect6", "poll", "ppoll", "epoll_create",
      "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd",
      "eventfd2", "signalfd", "signalfd4", "inotify_init", "inotify_init1", "inotify_add_watch",
      "inotify_rm_watch",
      // sockets of the families socket() allows
      "connect", "bind", "listen", "accept", "accept4", "shutdown", "sendto", "recvfrom", "sendmsg",
      "recvmsg", "sendmmsg", "recvmmsg", "getsockname", "getpeername", "getsockopt", "setsockopt",
      // SysV IPC: each worker has an IPC namespace of its own where the node can make one
      "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semctl", "semtimedop", "msgget",
      "msgsnd", "msgrcv", "msgctl",
  };
  // clang-format on
  return names;
}

Result<SeccompProgram> SeccompProgram::build(const ProcessBinding& binding) {
  Ctx ctx(seccomp_init(SCMP_ACT_NOTIFY), seccomp_release);
  if (!ctx) return fail(Errc::kInternal, "seccomp_init failed");
  // A binary search over the call numbers instead of a list: every call a worker makes runs it.
  SIE_CHECK(check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "optimize"));
  for (const char* name : allowedSyscalls()) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    SIE_CHECK(allow(ctx.get(), nr, name, {}));
  }
  SIE_CHECK(sockets(ctx.get(), binding));
  SIE_CHECK(allow(ctx.get(), SCMP_SYS(socketpair), "socketpair", {SCMP_A0(SCMP_CMP_EQ, AF_UNIX)}));
  SIE_CHECK(processes(ctx.get(), binding));
  SIE_CHECK(refuse(ctx.get(), ENOSYS, SCMP_SYS(io_uring_setup), "io_uring", {}));
  // TIOCSTI would type into a terminal the worker shares.
  SIE_CHECK(allow(ctx.get(), SCMP_SYS(ioctl), "ioctl", {SCMP_A1(SCMP_CMP_NE, TIOCSTI)}));
  for (const scmp_datum_t persona : {0UL, kPersonalityQuery}) {
    SIE_CHECK(
        allow(ctx.get(), SCMP_SYS(personality), "personality", {SCMP_A0(SCMP_CMP_EQ, persona)}));
  }
  // FIFOs in the worker's folder; devices need privileges a worker never has.
  SIE_CHECK(allow(ctx.get(), SCMP_SYS(mknodat), "mknodat",
                  {SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFIFO)}));
  SIE_CHECK(
      allow(ctx.get(), SCMP_SYS(mknod), "mknod", {SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFIFO)}));
  const int fd = memfd_create("sie-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return fail(Errc::kIo, fmt::format("memfd_create: {}", std::strerror(errno)));
  SeccompProgram program(fd);
  SIE_CHECK(check(seccomp_export_bpf(ctx.get(), fd), "export"));
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
    return fail(Errc::kIo, fmt::format("sealing the seccomp program: {}", std::strerror(errno)));
  }
  return program;
}

SeccompProgram::~SeccompProgram() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace sie::process
