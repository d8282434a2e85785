// The sandbox escape suite: a hostile worker written in C (sandbox_attacker.c) tries one attack
// per start, as a function deployed to the process runtime would. Each attack must fail: either
// the seccomp allowlist makes the node kill the worker (named in the error, counted by syscall in
// /metrics) or the kernel refuses the call (Landlock, rlimits, users, argument filters) and the
// worker reports it blocked. The Python probes in test/integration/process_test.cc try the same
// from an interpreter.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/function_manifest.h"
#include "exec/process/process_executor.h"
#include "exec/process/sandbox_layers.h"
#include "runtime_schemas.h"
#include "servers.h"
#include "sie/metrics.h"

namespace sie {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

class SandboxEscapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Workers run as users of their own when the tests run as root: the folder must be open.
    chmod(dir_.path().c_str(), 0755);
    std::filesystem::copy_file(SIE_ATTACKER, dir_.file("attacker"));
    chmod(dir_.file("attacker").c_str(), 0755);
    secret_ = secrets_.file("node.key");
    chmod(secrets_.path().c_str(), 0755);
    std::ofstream(secret_) << "secret";
    chmod(secret_.c_str(), 0644);  // even a readable file of the node's is out of reach
  }
  void TearDown() override { std::filesystem::remove(outside_); }

  // Starts the attacker on `attack`; what it said or why it died.
  std::string attempt(const std::string& attack, const std::string& target = "",
                      const std::string& process = "") {
    const std::string manifest = dir_.file("attacker.yaml");
    std::ofstream(manifest) << fmt::format(
        "apiVersion: sie/v1\nkind: Function\nmetadata: {{name: attacker}}\nspec:\n"
        "  runtime: process\n  handler: attacker\n  triggers: [\"probe/#\"]\n"
        "  process: {{args: [\"{}\", \"{}\"]{}}}\n",
        attack, target, process);
    std::ifstream in(manifest);
    auto specs = node::parseManifests({manifest, {std::istreambuf_iterator<char>(in), {}}},
                                      sie::testing::runtimeSchemas());
    if (!specs) return "manifest: " + specs.error().str();
    auto instance = runtime_->instantiate(specs->front());
    if (instance) return "started";  // the attacker never serves: it cannot get here
    return instance.error().str();
  }

  static std::string violations(const std::string& syscall) {
    const std::string text = metrics().render();
    const std::string prefix = "sie_sandbox_violations_total{";
    for (std::size_t at = text.find(prefix); at != std::string::npos;
         at = text.find(prefix, at + 1)) {
      const std::string line = text.substr(at, text.find('\n', at) - at);
      if (line.find("function=\"attacker@1\"") != std::string::npos &&
          line.find("syscall=\"" + syscall + "\"") != std::string::npos) {
        return line.substr(line.rfind(' ') + 1);
      }
    }
    return "0";
  }

  void expectKilled(const std::string& attack, const std::string& syscall,
                    const std::string& process = "") {
    SCOPED_TRACE(attack);
    const std::string before = violations(syscall);
    const std::string result = attempt(attack, "", process);
    EXPECT_THAT(result, HasSubstr("killed for calling " + syscall + "("));
    EXPECT_THAT(result, Not(HasSubstr("ESCAPED")));
    EXPECT_EQ(std::stoi(violations(syscall)), std::stoi(before) + 1);
  }

  void expectBlocked(const std::string& attack, const std::string& why,
                     const std::string& target = "") {
    SCOPED_TRACE(attack);
    EXPECT_THAT(attempt(attack, target), HasSubstr("blocked: " + attack + ": " + why));
  }

  TempDir dir_, secrets_;
  std::string secret_;
  std::string outside_ = fmt::format("/tmp/sie-escape-{}", getpid());
  std::shared_ptr<Executor> runtime_ = process::makeExecutor();
};

TEST_F(SandboxEscapeTest, KernelAdministrationKillsTheWorker) {
  for (const char* call :
       {"keyctl", "add_key", "bpf", "perf_event_open", "userfaultfd", "mount", "chroot",
        "init_module", "kexec_load", "reboot", "open_by_handle_at", "personality", "setuid"}) {
    expectKilled(call, call);
  }
  expectKilled("ioctl_tiocsti", "ioctl");
  expectKilled("mknod_device", "mknodat");
}

TEST_F(SandboxEscapeTest, ReachingIntoOtherProcessesKillsTheWorker) {
  expectKilled("ptrace", "ptrace");
  expectKilled("process_vm_readv", "process_vm_readv");
  expectKilled("pidfd_getfd", "pidfd_getfd");
}

TEST_F(SandboxEscapeTest, NamespacesAndProcessGroupsStayClosed) {
  expectKilled("unshare", "unshare");
  expectKilled("setns", "setns");
  expectKilled("fork", "fork");  // processes: 1
  expectKilled("clone_newuser", "clone");
  // Children allowed, still no namespaces and no leaving the group the node kills.
  expectKilled("clone_newuser", "clone", ", processes: 4");
  expectKilled("setsid", "setsid", ", processes: 4");
  expectKilled("setpgid", "setpgid", ", processes: 4");
}

// Calls programs probe before falling back are refused, not punished.
TEST_F(SandboxEscapeTest, ProbesAreRefusedWithAnError) {
  expectBlocked("io_uring", "ENOSYS");
  expectBlocked("clone3", "ENOSYS");
  for (const char* attack : {"socket_packet", "socket_raw", "socket_inet", "socket_inet6",
                             "socket_netlink", "socket_vsock"}) {
    expectBlocked(attack, "EACCES");
  }
}

TEST_F(SandboxEscapeTest, FilesSecretsAndTheNodeAreOutOfReach) {
  // With a root view of its own the node's files are not there and the rest is read-only;
  // without, Landlock refuses.
  const bool view = process::sandboxLayers().namespaces;
  expectBlocked("read_secret", view ? "ENOENT" : "EACCES", secret_);
  expectBlocked("write_outside", view ? "EROFS" : "EACCES", outside_);
  EXPECT_FALSE(std::filesystem::exists(outside_));
  const std::string memory = attempt("memory");
  EXPECT_THAT(memory, ::testing::AnyOf(HasSubstr("blocked: memory: ENOMEM"),
                                       HasSubstr("over its memory limit")));
  // Signalling the node: refused by the worker's own user (root node) or Landlock's scope.
  const auto& layers = process::sandboxLayers();
  if (!layers.root && layers.landlock_abi < 6) {
    GTEST_SKIP() << "a non-root node under Landlock ABI < 6 shares its user with its workers";
  }
  // In its function's PID namespace the node is not even there to be refused.
  expectBlocked("signal_node", layers.namespaces ? "ESRCH" : "EPERM", std::to_string(getpid()));
}

// Disk exhaustion: a function's workers share a scratch space of the manifest's size, and a
// gone worker's files go with it (the second attacker has the same room as the first).
TEST_F(SandboxEscapeTest, WorkersFillNoMoreThanTheirScratchSpace) {
  if (!process::sandboxLayers().namespaces) {
    GTEST_SKIP() << "no mount namespace here: workers' folders are limited per file only";
  }
  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run);
    const std::string result = attempt("fill_scratch", "", ", scratch: 8Mi");
    EXPECT_THAT(result, HasSubstr("blocked: fill_scratch: ENOSPC"));
    const auto at = result.find("wrote ");
    ASSERT_NE(at, std::string::npos) << result;
    const int mib = std::stoi(result.substr(at + 6));
    EXPECT_GE(mib, 6);
    EXPECT_LE(mib, 8);
  }
}

// D-Bus, journald, a container runtime: pathname Unix sockets Landlock does not govern.
TEST_F(SandboxEscapeTest, TheHostsUnixSocketsAreNotInItsView) {
  if (!process::sandboxLayers().namespaces) {
    GTEST_SKIP() << "no mount namespace here: workers can reach the host's Unix sockets";
  }
  const std::string path = secrets_.file("bus.sock");
  const int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  chmod(path.c_str(), 0777);
  ASSERT_EQ(listen(listener, 4), 0);
  expectBlocked("unix_socket", "ENOENT", path);
  close(listener);
}

}  // namespace
}  // namespace sie
