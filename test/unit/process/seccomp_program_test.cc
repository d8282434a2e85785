#include "exec/process/seccomp_program.h"

#include <seccomp.h>
#include <sys/stat.h>

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::process {
namespace {

TEST(SeccompProgramTest, TheAllowlistHoldsNoCallThatUndoesTheSandbox) {
  const std::set<std::string> allowed(allowedSyscalls().begin(), allowedSyscalls().end());
  EXPECT_EQ(allowed.size(), allowedSyscalls().size()) << "a name is listed twice";
  for (const char* name : {"ptrace",
                           "process_vm_readv",
                           "process_vm_writev",
                           "mount",
                           "umount2",
                           "pivot_root",
                           "chroot",
                           "unshare",
                           "setns",
                           "bpf",
                           "perf_event_open",
                           "keyctl",
                           "add_key",
                           "request_key",
                           "userfaultfd",
                           "open_by_handle_at",
                           "kexec_load",
                           "init_module",
                           "finit_module",
                           "reboot",
                           "setsid",
                           "setpgid",
                           "setuid",
                           "setgid",
                           "setgroups",
                           "io_uring_setup",
                           "io_uring_enter",
                           "pidfd_getfd",
                           "kcmp",
                           "clone",
                           "clone3",
                           "fork",
                           "vfork",
                           "socket",
                           "socketpair",
                           "ioctl",
                           "personality",
                           "mknod",
                           "mknodat"}) {
    // The last rows are allowed only with argument filters, never wholesale.
    EXPECT_EQ(allowed.count(name), 0U) << name;
  }
}

TEST(SeccompProgramTest, EveryAllowedNameIsASystemCallHere) {
  // A misspelt name would silently allow nothing (x86-64 has every call listed).
  for (const char* name : allowedSyscalls()) {
    EXPECT_NE(seccomp_syscall_resolve_name(name), __NR_SCMP_ERROR) << name;
  }
}

TEST(SeccompProgramTest, BuildsForEveryKindOfWorker) {
  ProcessBinding native;
  ProcessBinding lambda;
  lambda.protocol = ProcessBinding::Protocol::kLambda;
  ProcessBinding forking;
  forking.processes = 8;
  forking.network = true;
  for (const auto* binding : {&native, &lambda, &forking}) {
    auto program = SeccompProgram::build(*binding);
    ASSERT_TRUE(program) << program.error().str();
    struct stat st {};
    ASSERT_EQ(fstat(program->fd(), &st), 0);
    EXPECT_GT(st.st_size, 0);
    EXPECT_EQ(st.st_size % 8, 0);  // whole BPF instructions
  }
}

}  // namespace
}  // namespace sie::process
