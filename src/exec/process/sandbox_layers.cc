#include "exec/process/sandbox_layers.h"

#include "exec/process/worker_cgroups.h"

#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <fmt/format.h>

namespace sie::process {

namespace {

// CAP_SYS_ADMIN in the effective set: a container's root may lack it (and then cannot unshare).
bool hasSysAdmin() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (!line.starts_with("CapEff:")) continue;
    const unsigned long long caps = std::strtoull(line.c_str() + 7, nullptr, 16);
    return (caps >> CAP_SYS_ADMIN & 1ULL) != 0;
  }
  return false;
}

}  // namespace

const SandboxLayers& sandboxLayers() {
  static const SandboxLayers layers = probeSandboxLayers();
  return layers;
}

SandboxLayers probeSandboxLayers() {
  SandboxLayers out;
  utsname name{};
  if (::uname(&name) == 0) out.kernel = name.release;
  const long abi =
      syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  out.landlock_abi = abi > 0 ? abi : 0;
  out.seccomp = ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
  seccomp_notif_sizes sizes{};
  out.seccomp_notify = out.seccomp && syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0;
  out.root = ::geteuid() == 0;
  out.namespaces = out.root && hasSysAdmin();
  long max_namespaces = 0;
  std::ifstream("/proc/sys/user/max_user_namespaces") >> max_namespaces;
  out.user_namespaces = max_namespaces > 0;
  if (const auto& layer = WorkerCgroups::shared(&out.cgroups_missing)) {
    out.cgroups = layer->describe();
  }
  return out;
}

std::string workerNamespaces(const SandboxLayers& layers) {
  return layers.namespaces ? "ipc,uts" : "";
}

std::string functionNamespaces(const SandboxLayers& layers, const ProcessBinding& binding) {
  if (!layers.namespaces) return "";
  if (binding.network) return "mnt,pid";
  // The Lambda and Dapr APIs are served inside the function's own network: its workers reach
  // them and nothing else of the host, even where Landlock has no TCP port rules (ABI < 4).
  if (servesLoopbackApi(binding)) return "mnt,net,pid";
  return layers.landlock_abi < 6 ? "mnt,net,pid" : "mnt,pid";
}

bool servesLoopbackApi(const ProcessBinding& binding) {
  return binding.protocol == ProcessBinding::Protocol::kLambda || !binding.loopback_ports.empty();
}

std::vector<LayerLine> describe(const SandboxLayers& l) {
  std::vector<LayerLine> out;
  out.push_back({true, fmt::format("kernel {}", l.kernel)});
  if (l.landlock_abi == 0) {
    out.push_back({false,
                   "Landlock: unavailable (needs Linux >= 5.13 with landlock in lsm=): process "
                   "functions cannot start"});
  } else {
    std::string what = "files read-only outside the worker's folder";
    if (l.landlock_abi >= 4) what += ", TCP only to the runtime's port";
    if (l.landlock_abi >= 6) what += ", no signals or abstract sockets outside the worker";
    out.push_back({true, fmt::format("Landlock ABI {}: {}", l.landlock_abi, what)});
    if (l.landlock_abi < 4 && !l.namespaces) {
      out.push_back(
          {false, fmt::format("Landlock ABI {} < 4: no TCP port rules, so a lambda or Dapr worker "
                              "with network: false can still connect to any TCP port (seccomp "
                              "allows it AF_INET for the runtime API); Linux >= 6.7 or running the "
                              "node as root (a network namespace per function) closes this",
                              l.landlock_abi)});
    }
  }
  if (!l.seccomp) {
    out.push_back({false, "seccomp: unavailable: process functions cannot start"});
  } else {
    out.push_back(
        {l.seccomp_notify,
         l.seccomp_notify
             ? "seccomp: an allowlist per function (sockets, clone and ioctl by argument); a call "
               "outside it kills the worker and is logged and counted by name"
             : "seccomp: an allowlist per function; a call outside it fails with ENOSYS but "
               "neither kills the worker nor is counted (no seccomp user notification, Linux < "
               "5.0)"});
  }
  out.push_back({l.root, l.root ? "users: workers run as unprivileged users of their own"
                                : "users: the node is not root, so workers run as the node's "
                                  "user and can read what it can (its data folder, its keys)"});
  const char* own =
      l.landlock_abi < 6
          ? "namespaces: each worker has its own IPC and UTS namespace; a function's workers "
            "share a PID namespace (its own /proc; nothing a worker starts outlives the "
            "function) and a mount namespace whose root holds only the system folders, the "
            "function's "
            "and its workers' (no pathname Unix sockets of the host), and a network of their own "
            "when they need none: without interfaces (nor abstract Unix sockets), or with only "
            "the Lambda or Dapr API on its loopback; their folders on a tmpfs of the "
            "function's scratch size"
          : "namespaces: each worker has its own IPC and UTS namespace; a function's workers "
            "share a PID namespace (its own /proc; nothing a worker starts outlives the "
            "function) and a mount namespace whose root holds only the system folders, the "
            "function's "
            "and its workers' (no pathname Unix sockets of the host; Landlock scopes abstract "
            "ones), their folders on a tmpfs of the function's scratch size, and Lambda and Dapr "
            "workers a network of their own with only their API on its loopback";
  out.push_back({l.namespaces,
                 l.namespaces
                     ? own
                     : "namespaces: unavailable (the node is not root with CAP_SYS_ADMIN): workers "
                       "share the host's SysV IPC, can connect to the host's pathname Unix "
                       "sockets (D-Bus, journald, a container runtime's) and to abstract ones "
                       "where Landlock cannot scope them (ABI < 6), and their folders have no "
                       "quota but 1 GiB per file"});
  out.push_back(
      {!l.cgroups.empty(),
       l.cgroups.empty()
           ? fmt::format("cgroups: unavailable ({}): a worker's memory is bounded per process "
                         "(address space) only, its CPU time not at all",
                         l.cgroups_missing)
           : fmt::format("cgroups: {}: each worker's memory (with its children and page cache), "
                         "processes and CPU share",
                         l.cgroups)});
  out.push_back({true, fmt::format("not used yet: user namespaces ({})",
                                   l.user_namespaces ? "available" : "unavailable")});
  return out;
}

std::string summary(const SandboxLayers& l) {
  std::string landlock = "no Landlock";
  if (l.landlock_abi > 0) {
    landlock = fmt::format("Landlock ABI {} (files{}{})", l.landlock_abi,
                           l.landlock_abi >= 4 ? ", TCP ports" : "",
                           l.landlock_abi >= 6 ? ", scopes" : "");
  }
  return fmt::format("{}, {}, {}, {}, {}", landlock, l.seccomp ? "seccomp allowlist" : "no seccomp",
                     l.root ? "unprivileged users" : "the node's own user",
                     !l.namespaces ? "no namespaces"
                     : l.landlock_abi < 6
                         ? "namespaces (ipc, uts, mnt, pid, net)"
                         : "namespaces (ipc, uts, mnt, pid; net for Lambda and Dapr)",
                     l.cgroups.empty() ? "no cgroups" : l.cgroups);
}

}  // namespace sie::process
