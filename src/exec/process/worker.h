// Worker: one sandboxed process of a process-runtime function. Spawned through sie-launch with
// posix_spawn, in its own process group, working directory (removed with the worker) and clean
// environment; its stdout and stderr become per-instance log lines.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/log.h"
#include "exec/process/function_view.h"
#include "exec/process/seccomp_program.h"
#include "exec/process/seccomp_watch.h"
#include "exec/process/uid_pool.h"
#include "exec/process/worker_cgroups.h"
#include "sie/function.h"
#include "sie/result.h"

namespace sie::process {

// What every worker of one function is started with, prepared once at deploy.
struct WorkerPlan {
  std::string name;        // function id, for logs
  std::string launcher;    // path of sie-launch
  std::string executable;  // absolute
  std::vector<std::string> args;
  std::vector<std::string> env;  // NAME=VALUE
  std::vector<std::string> read_only;
  std::vector<std::pair<std::string, std::uint64_t>> rlimits;  // sie-launch names
  // When the node runs as root, each worker runs as a user and group of its own from this pool:
  // unprivileged, its process rlimit counts only its own processes, and workers cannot signal
  // or read each other. nullptr: workers run as the node's user.
  UidPool* uids = nullptr;
  // Namespaces each worker makes (sie-launch --unshare; workerNamespaces() in sandbox_layers.h)
  // and those all of the function's share (--join; nullptr without them).
  std::string unshare;
  std::shared_ptr<const FunctionView> view;
  // Each worker's cgroup(s) with these limits; nullptr where the node cannot use cgroups.
  std::shared_ptr<WorkerCgroups> cgroups;
  CgroupLimits cgroup_limits;
  bool network = false;
  std::vector<int> loopback_ports;  // TCP ports every worker may connect to (the Dapr API)
  std::string work_root;            // per-worker folders are made under it (one per function)
  std::shared_ptr<const SeccompProgram> seccomp;
  // Kills and reports workers that call outside the filter; nullptr: such calls fail (ENOSYS).
  SeccompWatch* seccomp_watch = nullptr;
};

class Worker {
 public:
  // `channel` (>= 0) becomes the worker's fd 3; `tcp_port` (>= 0) is the only TCP port it may
  // connect to; `extra_env` is added to the plan's environment.
  static Result<std::unique_ptr<Worker>> spawn(const WorkerPlan& plan, int instance, int channel,
                                               int tcp_port,
                                               const std::vector<std::string>& extra_env);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // Whether the process still runs (reaps it when not).
  bool running();
  // Kills the whole process group and reaps the worker.
  void kill();
  // "exited with code 3", "killed by signal 9 (Killed)", or "running".
  std::string exitReason();
  // The last lines it wrote on stdout/stderr, newest last, for error messages.
  [[nodiscard]] std::string lastOutput() const;
  // Why it is gone, for errors: "[fn@1#2] exited with code 1; last output: ...".
  std::string obituary();
  [[nodiscard]] const std::string& label() const { return label_; }
  // Its folder as the node reaches it (through the function's scratch space, if it has one).
  [[nodiscard]] const std::string& workDir() const { return work_dir_; }

 private:
  Worker(std::string label, pid_t pid, int out_fd, std::string work_dir,
         std::optional<UidPool::Lease> uid, std::unique_ptr<WorkerCgroup> cgroup,
         SeccompWatch* watch, std::shared_ptr<const FunctionView> view);
  void captureOutput(int fd);
  void reap(int options);

  std::string label_;
  Log log_;  // [fn:name@version#instance]: the worker's output lines
  pid_t pid_;
  std::string work_dir_;
  std::optional<int> status_;  // waitpid status once reaped
  mutable std::mutex mu_;
  std::deque<std::string> tail_;
  bool drained_ = false;  // its output read to the end
  std::condition_variable drained_cv_;
  std::atomic<bool> stopping_{false};
  std::thread logger_;
  // Released with the Worker, after its destructor killed and reaped the process.
  std::optional<UidPool::Lease> uid_;
  std::unique_ptr<WorkerCgroup> cgroup_;
  SeccompWatch* watch_;
  // The function's namespaces stay while a worker is in them (the plan may be retired first).
  std::shared_ptr<const FunctionView> view_;
};

}  // namespace sie::process
