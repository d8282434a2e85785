#include "exec/process/sandbox_layers.h"

#include <linux/landlock.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::process {
namespace {

using ::testing::HasSubstr;

std::string joined(const std::vector<LayerLine>& lines, bool ok) {
  std::string out;
  for (const auto& line : lines) {
    if (line.ok == ok) out += line.text + "\n";
  }
  return out;
}

TEST(SandboxLayersTest, TheProbeSeesThisKernel) {
  const SandboxLayers layers = probeSandboxLayers();
  const long abi =
      syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  EXPECT_EQ(layers.landlock_abi, abi > 0 ? abi : 0);
  EXPECT_EQ(layers.root, ::geteuid() == 0);
  // Root here may make namespaces exactly when unshare works (a container may deny it).
  if (layers.root) {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(::unshare(CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET) == 0 ? 0 : 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_EQ(layers.namespaces, WIFEXITED(status) && WEXITSTATUS(status) == 0);
  } else {
    EXPECT_FALSE(layers.namespaces);
  }
  EXPECT_FALSE(layers.kernel.empty());
  EXPECT_THAT(joined(describe(layers), true), HasSubstr(layers.kernel));
  // Every kernel this runs on has seccomp user notification (Linux >= 5.0).
  EXPECT_TRUE(layers.seccomp_notify);
  EXPECT_THAT(joined(describe(layers), true), HasSubstr("kills the worker"));
}

TEST(SandboxLayersTest, WhatAnOlderKernelLacksIsSaid) {
  SandboxLayers debian12{.kernel = "6.1.0-13-amd64", .landlock_abi = 2, .seccomp = true};
  const auto lines = describe(debian12);
  EXPECT_THAT(joined(lines, false), HasSubstr("no TCP port rules"));
  EXPECT_THAT(joined(lines, false), HasSubstr("the node's user"));
  EXPECT_THAT(joined(lines, true), HasSubstr("Landlock ABI 2"));
  EXPECT_THAT(joined(lines, true), ::testing::Not(HasSubstr("TCP only")));

  EXPECT_THAT(joined(lines, false), HasSubstr("namespaces: unavailable"));
  EXPECT_THAT(joined(lines, false), HasSubstr("cgroups: unavailable"));

  SandboxLayers recent{.kernel = "6.12",
                       .landlock_abi = 6,
                       .seccomp = true,
                       .seccomp_notify = true,
                       .root = true,
                       .namespaces = true,
                       .cgroups = "cgroup v2 (memory, pids, cpu)"};
  EXPECT_EQ(joined(describe(recent), false), "");
  EXPECT_THAT(joined(describe(recent), true), HasSubstr("TCP only to the runtime's port"));
  EXPECT_THAT(joined(describe(recent), true), HasSubstr("own IPC and UTS namespace"));
  EXPECT_THAT(summary(recent), HasSubstr("namespaces (ipc, uts, mnt, pid; net for Lambda"));
  EXPECT_THAT(joined(describe(recent), true), HasSubstr("share a PID namespace"));
  EXPECT_THAT(summary(debian12), HasSubstr("no namespaces"));

  // Without user notification the allowlist still refuses, but nothing kills or counts.
  EXPECT_THAT(joined(lines, false), HasSubstr("fails with ENOSYS"));

  SandboxLayers none{.kernel = "5.4"};
  EXPECT_THAT(joined(describe(none), false), HasSubstr("cannot start"));
}

// Lambda and Dapr workers get a network of their own everywhere (their API served inside it):
// on Debian 12 (ABI 2, no TCP port rules) it is what keeps them off the host's ports.
TEST(SandboxLayersTest, ANetworkNamespaceOnlyWhereItClosesAGap) {
  ProcessBinding native;
  ProcessBinding lambda;
  lambda.protocol = ProcessBinding::Protocol::kLambda;
  ProcessBinding networked;
  networked.network = true;
  ProcessBinding dapr;
  dapr.loopback_ports = {3500};
  SandboxLayers debian12{.landlock_abi = 2, .seccomp = true, .root = true, .namespaces = true};
  EXPECT_EQ(functionNamespaces(debian12, native), "mnt,net,pid");
  EXPECT_EQ(workerNamespaces(debian12), "ipc,uts");
  EXPECT_EQ(functionNamespaces(debian12, networked), "mnt,pid");
  SandboxLayers recent = debian12;
  recent.landlock_abi = 6;  // scopes abstract Unix sockets itself
  EXPECT_EQ(functionNamespaces(recent, native), "mnt,pid");
  EXPECT_EQ(functionNamespaces(recent, networked), "mnt,pid");
  for (const auto* layers : {&debian12, &recent}) {
    EXPECT_EQ(functionNamespaces(*layers, lambda), "mnt,net,pid");
    EXPECT_EQ(functionNamespaces(*layers, dapr), "mnt,net,pid");
  }
  EXPECT_TRUE(servesLoopbackApi(lambda));
  EXPECT_TRUE(servesLoopbackApi(dapr));
  EXPECT_FALSE(servesLoopbackApi(native));
  SandboxLayers unprivileged = debian12;
  unprivileged.namespaces = false;
  EXPECT_EQ(workerNamespaces(unprivileged), "");
  EXPECT_EQ(functionNamespaces(unprivileged, native), "");
}

TEST(SandboxLayersTest, SieDoctorPrintsTheReport) {
  std::string out;
  FILE* pipe = ::popen(SIE_CLI " doctor; echo rc=$?", "r");
  char buffer[1024];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  ::pclose(pipe);
  EXPECT_THAT(out, HasSubstr("Landlock"));
  EXPECT_THAT(out, HasSubstr("seccomp"));
  const SandboxLayers layers = probeSandboxLayers();
  EXPECT_THAT(out, HasSubstr(layers.landlock_abi > 0 && layers.seccomp ? "rc=0" : "rc=1"));
}

}  // namespace
}  // namespace sie::process
