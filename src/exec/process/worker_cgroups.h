// Control groups for workers. Each worker runs in a cgroup of its own, below a folder of this
// node's in the node's own cgroup, with
//   memory  the manifest's memory: resident memory and page cache of the worker and all its
//           children together (RLIMIT_AS bounds each process's address space only);
//   pids    the manifest's processes (tasks: threads count, as for RLIMIT_NPROC), counted in
//           the kernel whatever users they run as; only where the worker may fork;
//   cpu     the manifest's cpus, a share of one CPU's time (1: one CPU), so a busy or hostile
//           worker leaves the rest of the machine to its neighbours.
// On cgroup v1 (one hierarchy per controller) and on cgroup v2; used when the node is root and
// its cgroup can have children with these controllers (on v2 the node first moves itself into a
// leaf, "node", as a delegated service does). sie-launch joins the worker's cgroups before it
// drops privileges, so no instruction of the function runs outside them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sie/result.h"

namespace sie::process {

struct CgroupLimits {
  std::uint64_t memory_bytes = 0;  // 0: none
  int pids = 0;                    // 0: none
  double cpus = 0;                 // 0: none
};

// One worker's cgroup(s), removed with it (once its processes are gone).
class WorkerCgroup {
 public:
  explicit WorkerCgroup(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}
  WorkerCgroup(const WorkerCgroup&) = delete;
  WorkerCgroup& operator=(const WorkerCgroup&) = delete;
  ~WorkerCgroup();
  // The cgroup.procs files sie-launch writes itself into (--cgroup).
  [[nodiscard]] std::vector<std::string> procsFiles() const;
  // Whether the kernel killed a process of it for memory (memory.events or memory.oom_control).
  [[nodiscard]] bool oomKilled() const;

 private:
  friend class WorkerCgroups;
  std::vector<std::string> dirs_;
};

class WorkerCgroups {
 public:
  // The node's cgroup layer, set up once (a folder "sie-<pid>" in the node's cgroup, per
  // controller on v1); nullptr when this node cannot use cgroups, `why` then says why.
  static std::shared_ptr<WorkerCgroups> open(std::string& why);
  // The process's layer: opened once, on first use; `why` says why it is nullptr.
  static const std::shared_ptr<WorkerCgroups>& shared(std::string* why = nullptr);
  ~WorkerCgroups();

  Result<std::unique_ptr<WorkerCgroup>> create(const std::string& name, const CgroupLimits& limits);
  // "cgroup v1 (memory, pids, cpu)".
  [[nodiscard]] std::string describe() const;

 private:
  struct Root {
    std::string controller;  // "memory", "pids", "cpu"; "" for the v2 hierarchy
    std::string dir;         // the node's folder for workers
  };
  WorkerCgroups(bool v2, std::vector<Root> roots) : v2_(v2), roots_(std::move(roots)) {}

  bool v2_;
  std::vector<Root> roots_;
};

}  // namespace sie::process
