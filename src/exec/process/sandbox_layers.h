// What this kernel and this node give the process runtime's sandbox, said at startup and by
// `sie doctor`: the Landlock ABI (and what it can enforce), seccomp filters, whether workers run
// as another user, and what the kernel offers that the launcher does not use yet. Kernels differ
// (Debian 12's 6.1 has Landlock ABI 2; TCP port rules need ABI 4), so the node says which
// layers are active instead of assuming.
#pragma once

#include <string>
#include <vector>

#include "exec/process/process_binding.h"

namespace sie::process {

struct SandboxLayers {
  std::string kernel;     // uname release
  long landlock_abi = 0;  // 0: no Landlock
  bool seccomp = false;   // seccomp filters can be installed
  // Seccomp user notification (Linux >= 5.0): calls outside the allowlist reach the node, which
  // kills the worker and names the call; without it they fail with ENOSYS.
  bool seccomp_notify = false;
  bool root = false;  // the node runs as root: workers get unprivileged users
  // The node may make namespaces (root with CAP_SYS_ADMIN): each worker gets its own IPC and
  // UTS namespace, and one with no network when it needs none.
  bool namespaces = false;
  bool user_namespaces = false;
  // The workers' cgroups ("cgroup v1 (memory, pids, cpu)"), or "" and why not.
  std::string cgroups;
  std::string cgroups_missing;
};

SandboxLayers probeSandboxLayers();
// The probe's result for this process, taken once.
const SandboxLayers& sandboxLayers();

// The namespaces each worker makes for itself here (sie-launch --unshare): "" without
// the layer, else "ipc,uts" (30 us).
std::string workerNamespaces(const SandboxLayers& layers);
// The namespaces all workers of `binding` share (FunctionView), made once: "" without the layer,
// "mnt" (a root view of their own) for workers with `network`, plus "net" for Lambda and Dapr
// workers (their API is served inside, on its loopback) and for the native protocol's (which
// talks over an inherited socket) where Landlock cannot scope abstract Unix sockets (ABI < 6).
// Elsewhere seccomp and Landlock already keep a native worker off every socket.
std::string functionNamespaces(const SandboxLayers& layers, const ProcessBinding& binding);
// Whether the node serves `binding`'s workers an API over TCP on their loopback (Lambda, Dapr).
bool servesLoopbackApi(const ProcessBinding& binding);

struct LayerLine {
  bool ok = false;  // false: missing or limited, with what that means
  std::string text;
};
// One line per layer, in the order a worker meets them.
std::vector<LayerLine> describe(const SandboxLayers& layers);
// One line for the startup log: "Landlock ABI 7 (files, TCP ports, scopes), seccomp,
// unprivileged users, namespaces (ipc, uts, mnt, pid; net for Lambda and Dapr)".
std::string summary(const SandboxLayers& layers);

}  // namespace sie::process
