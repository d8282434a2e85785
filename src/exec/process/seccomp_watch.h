// SeccompWatch: the node's side of every worker's seccomp filter. A call outside a function's
// allowlist stops in the kernel and is handed to this watch (seccomp user notification): it
// kills the worker's process group, counts the call in sie_sandbox_violations_total{function,
// syscall}, logs it with its first arguments, and remembers it for the worker's obituary.
//
// Each sie-launch installs its filter with a new listener and sends that descriptor, with its
// pid and the function's name, over the socket launcherSocket() names, then closes both before it
// execs the function: the worker never holds its own listener (it could answer its own calls).
#pragma once

#include <sys/types.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace sie::process {

class SeccompWatch {
 public:
  // The node's one watch, started on first use and stopped at exit; nullptr where it cannot start
  // (then violations fail with ENOSYS, never executed, but nothing kills or counts).
  static SeccompWatch* shared();

  // The descriptor a launcher inherits to send its listener (sie-launch --seccomp-notify).
  [[nodiscard]] int launcherSocket() const { return launcher_end_; }
  // What a killed worker called: "keyctl(0x1, ...)"; nullopt when it broke no rule.
  std::optional<std::string> violation(pid_t worker) const;
  // Forgets a reaped worker.
  void forget(pid_t worker);

  SeccompWatch(const SeccompWatch&) = delete;
  SeccompWatch& operator=(const SeccompWatch&) = delete;
  ~SeccompWatch();  // at exit: stops and joins its thread

 private:
  SeccompWatch(int node_end, int launcher_end, int epoll, int stop);
  void run();
  void adoptListener();
  struct Watched {
    pid_t worker;  // leads the worker's process group
    std::string function;
  };
  void handle(int listener, const Watched& watched);

  int node_end_;
  int launcher_end_;
  int epoll_;
  int stop_;                          // an eventfd: written to end the thread
  mutable std::mutex mu_;             // violations_
  std::map<int, Watched> listeners_;  // by listener fd; the watch's thread only
  std::map<pid_t, std::string> violations_;
  std::thread thread_;
};

}  // namespace sie::process
