// FunctionView: the namespaces every worker of one function shares, made once when the function
// is prepared (sie-launch --make-view) and entered by each worker's launcher (--join): a mount
// namespace whose root holds only the system folders, the function's folders and its workers'
// folder (no /run, /home, /var, the node's data: nothing else of the host by path, so no D-Bus,
// journald or container runtime socket), and, for workers that need no network where Landlock
// cannot scope abstract Unix sockets, a network namespace with only a loopback that is down.
// Lambda and Dapr workers without `network` get a network namespace too, whose loopback is up and
// holds only what the node puts there: the Lambda runtime API of each instance (listen()), and a
// relay to the node's Dapr API on the port the workers are told (LoopbackRelay). They reach no
// other port of the host, whatever Landlock's ABI.
//
// Made per worker, these namespaces cost 0.5 ms at start and their teardown pushed later starts'
// p99 past 15 ms (the kernel frees them asynchronously, under locks new ones wait for); shared,
// a worker's start pays one setns each. Workers still get IPC and UTS namespaces of their own,
// and Landlock keeps each to its own folder inside the shared view.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "exec/process/loopback_relay.h"
#include "sie/result.h"

namespace sie::process {

class FunctionView {
 public:
  struct Options {
    std::string launcher;                // sie-launch
    std::string kinds;                   // "mnt" or "mnt,net"
    std::vector<std::string> read_only;  // as Landlock will allow them
    std::vector<std::string> writable;   // besides the workers' folder (/dev/null)
    std::string workers_folder;          // where each worker's folder is made, read-write
    bool loopback = false;               // with "net": bring its loopback up
    std::vector<int> relayed_ports;      // with "net": carried to the node's 127.0.0.1
    // Room for all the workers' folders together: a tmpfs of this size at workers_folder inside
    // the view (its pages count in the writing worker's memory cgroup); 0: the host's folder.
    std::uint64_t scratch_bytes = 0;
  };
  static Result<std::shared_ptr<const FunctionView>> make(const Options& options);
  ~FunctionView();
  FunctionView(const FunctionView&) = delete;
  FunctionView& operator=(const FunctionView&) = delete;

  // Namespace descriptors a launcher joins.
  [[nodiscard]] const std::vector<int>& namespaces() const { return fds_; }
  // Whether workers run in a network of their own (then an API they call must listen there).
  [[nodiscard]] bool ownNetwork() const { return parts_.net >= 0; }
  // The function's PID namespace (for a worker's launcher to be started in), or -1.
  [[nodiscard]] int pidNamespace() const { return parts_.pid; }
  // A TCP socket listening on 127.0.0.1:`port` (0: any free one) in the view's network.
  [[nodiscard]] Result<int> listen(std::uint16_t port) const;
  // Where the node makes, chowns and removes workers' folders: the view's scratch space seen
  // through a descriptor ("/proc/self/fd/N"), or "" when the workers' folder is the host's.
  [[nodiscard]] std::string scratchPath() const;

 private:
  struct Parts {
    int net = -1;       // one of the joined namespaces
    int pid = -1;       // entered by the node's spawning thread, not joined by the launcher
    int scratch = -1;   // the scratch space's folder
    int lifeline = -1;  // while open, the PID namespace's first process lives
  };
  FunctionView(std::vector<int> fds, Parts parts) : fds_(std::move(fds)), parts_(parts) {}
  std::vector<int> fds_;  // joined by each worker's launcher (--join): mount, network
  Parts parts_;
  std::vector<std::unique_ptr<LoopbackRelay>> relays_;
};

}  // namespace sie::process
