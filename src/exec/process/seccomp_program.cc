#include "exec/process/seccomp_program.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace sie::process {
namespace {

constexpr const char* kDenied[] = {
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "open_by_handle_at",
    "name_to_handle_at",
    "fsopen",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "acct",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "syslog",
    "quotactl",
    "vhangup",
    "iopl",
    "ioperm",
    "lookup_dcookie",
    "kcmp",
    // A new session or process group would take a worker's children out of the group the node
    // kills with it.
    "setsid",
    "setpgid",
};

// Namespaces a clone must not create: a new user or network namespace undoes the sandbox's
// view of users and sockets.
constexpr scmp_datum_t kNamespaceFlags[] = {CLONE_NEWUSER,  CLONE_NEWNET, CLONE_NEWNS,
                                            CLONE_NEWPID,   CLONE_NEWIPC, CLONE_NEWUTS,
                                            CLONE_NEWCGROUP};

Status check(int rc, const char* what) {
  if (rc == 0) return ok();
  return fail(Errc::kInternal,
              fmt::format("building the seccomp filter ({}): {}", what, std::strerror(-rc)));
}

}  // namespace

Result<SeccompProgram> SeccompProgram::build(const ProcessBinding& binding) {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW),
                                                       seccomp_release);
  if (!ctx) return fail(Errc::kInternal, "seccomp_init failed");
  const auto deny = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kDenied) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    SIE_CHECK(check(seccomp_rule_add(ctx.get(), deny, nr, 0), name));
  }
  if (!binding.network) {
    const bool inet =
        binding.protocol == ProcessBinding::Protocol::kLambda || !binding.loopback_ports.empty();
    const int last_family = inet ? AF_INET : AF_UNIX;  // AF_UNIX 1, AF_INET 2
    SIE_CHECK(check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
                                     SCMP_A0(SCMP_CMP_GT, static_cast<scmp_datum_t>(last_family))),
                    "socket"));
    if (inet) {
      // TCP only: Landlock's port rules cover TCP, and MPTCP (IPPROTO_MPTCP) would pass them.
      SIE_CHECK(
          check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 2,
                                 SCMP_A0(SCMP_CMP_EQ, AF_INET), SCMP_A2(SCMP_CMP_GT, IPPROTO_TCP)),
                "socket protocol"));
      for (const int type : {SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET}) {
        SIE_CHECK(check(
            seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 2,
                             SCMP_A0(SCMP_CMP_EQ, AF_INET),
                             SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, static_cast<scmp_datum_t>(type))),
            "socket type"));
      }
    }
  }
  // clone3 passes its flags in memory the filter cannot read: ENOSYS makes libc fall back to
  // clone, whose flags it can.
  SIE_CHECK(
      check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0), "clone3"));
  for (const scmp_datum_t flag : kNamespaceFlags) {
    SIE_CHECK(check(seccomp_rule_add(ctx.get(), deny, SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
                    "clone namespaces"));
  }
  if (binding.processes <= 1) {
    SIE_CHECK(check(seccomp_rule_add(ctx.get(), deny, SCMP_SYS(fork), 0), "fork"));
    SIE_CHECK(check(seccomp_rule_add(ctx.get(), deny, SCMP_SYS(vfork), 0), "vfork"));
    SIE_CHECK(check(seccomp_rule_add(ctx.get(), deny, SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)),
                    "clone"));
  }
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
