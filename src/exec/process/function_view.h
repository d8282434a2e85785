// FunctionView: the namespaces every worker of one function shares, made once when the function
// is prepared (sie-launch --make-view) and entered by each worker's launcher (--join): a mount
// namespace whose root holds only the system folders, the function's folders and its workers'
// folder (no /run, /home, /var, the node's data: nothing else of the host by path, so no D-Bus,
// journald or container runtime socket), and, for workers that need no network where Landlock
// cannot scope abstract Unix sockets, a network namespace with only a loopback that is down.
//
// Made per worker, these namespaces cost 0.5 ms at start and their teardown pushed later starts'
// p99 past 15 ms (the kernel frees them asynchronously, under locks new ones wait for); shared,
// a worker's start pays one setns each. Workers still get IPC and UTS namespaces of their own,
// and Landlock keeps each to its own folder inside the shared view.
#pragma once

#include <memory>
#include <string>
#include <vector>

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
  };
  static Result<std::shared_ptr<const FunctionView>> make(const Options& options);
  ~FunctionView();
  FunctionView(const FunctionView&) = delete;
  FunctionView& operator=(const FunctionView&) = delete;

  // Namespace descriptors a launcher joins.
  [[nodiscard]] const std::vector<int>& namespaces() const { return fds_; }

 private:
  explicit FunctionView(std::vector<int> fds) : fds_(std::move(fds)) {}
  std::vector<int> fds_;
};

}  // namespace sie::process
