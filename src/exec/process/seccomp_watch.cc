#include "exec/process/seccomp_watch.h"

#include "core/log.h"
#include "exec/process/descriptor_passing.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sie/metrics.h"

namespace sie::process {
namespace {

constexpr std::size_t kMaxRemembered = 4096;  // violations of workers not yet reaped

std::string describeCall(const seccomp_notif& n) {
  char* name = seccomp_syscall_resolve_num_arch(n.data.arch, n.data.nr);
  std::string text = name != nullptr ? name : fmt::format("syscall {}", n.data.nr);
  std::free(name);
  return text;
}

}  // namespace

SeccompWatch* SeccompWatch::shared() {
  // The logger and the metrics it reports to are made first, so they outlive the watch: at exit
  // its thread is stopped and joined before they are destroyed.
  spdlog::default_logger_raw();
  metrics();
  static const std::unique_ptr<SeccompWatch> watch = []() -> std::unique_ptr<SeccompWatch> {
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
      spdlog::warn("sandbox: cannot watch seccomp violations (socketpair: {})",
                   std::strerror(errno));
      return nullptr;
    }
    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    const int stop = eventfd(0, EFD_CLOEXEC);
    bool watching = epoll >= 0 && stop >= 0;
    for (const int fd : {ends[0], stop}) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      watching = watching && epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) == 0;
    }
    if (!watching) {
      spdlog::warn("sandbox: cannot watch seccomp violations (epoll: {})", std::strerror(errno));
      for (const int fd : {ends[0], ends[1], epoll, stop}) {
        if (fd >= 0) close(fd);
      }
      return nullptr;
    }
    return std::unique_ptr<SeccompWatch>(new SeccompWatch(ends[0], ends[1], epoll, stop));
  }();
  return watch.get();
}

SeccompWatch::SeccompWatch(int node_end, int launcher_end, int epoll, int stop)
    : node_end_(node_end), launcher_end_(launcher_end), epoll_(epoll), stop_(stop) {
  thread_ = std::thread([this] { run(); });
}

SeccompWatch::~SeccompWatch() {
  const std::uint64_t one = 1;
  (void)!write(stop_, &one, sizeof(one));  // an eventfd at 0 takes it
  thread_.join();
  // Listeners still open close with it: their workers' forbidden calls then fail with ENOSYS.
  for (const auto& [listener, watched] : listeners_) close(listener);
  for (const int fd : {node_end_, launcher_end_, epoll_, stop_}) close(fd);
}

std::optional<std::string> SeccompWatch::violation(pid_t worker) const {
  std::lock_guard lock(mu_);
  if (auto it = violations_.find(worker); it != violations_.end()) return it->second;
  return std::nullopt;
}

void SeccompWatch::forget(pid_t worker) {
  std::lock_guard lock(mu_);
  violations_.erase(worker);
}

void SeccompWatch::run() {
  epoll_event events[16];
  for (;;) {
    const int n = epoll_wait(epoll_, events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("sandbox: the seccomp watch stopped (epoll_wait: {})", std::strerror(errno));
      return;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == stop_) return;
      if (fd == node_end_) {
        adoptListener();
        continue;
      }
      const auto it = listeners_.find(fd);
      if (it == listeners_.end()) continue;
      if ((events[i].events & EPOLLIN) != 0) handle(fd, it->second);
      // Every task under the filter is gone.
      if ((events[i].events & (EPOLLHUP | EPOLLERR)) != 0) {
        epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        close(fd);
        listeners_.erase(it);
      }
    }
  }
}

void SeccompWatch::adoptListener() {
  char message[512];
  std::vector<int> fds;
  const ssize_t n = receiveDescriptors(node_end_, message, fds);
  for (std::size_t i = 1; i < fds.size(); ++i) close(fds[i]);  // one listener a message
  if (fds.empty()) return;
  const int listener = fds.front();
  if (n < static_cast<ssize_t>(sizeof(pid_t))) {
    close(listener);
    return;
  }
  Watched watched;
  std::memcpy(&watched.worker, message, sizeof(pid_t));
  watched.function.assign(message + sizeof(pid_t), static_cast<std::size_t>(n) - sizeof(pid_t));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, listener, &ev) != 0) {
    Log("fn", watched.function)
        .error("sandbox: cannot watch worker {}'s seccomp listener: {}", watched.worker,
               std::strerror(errno));
    close(listener);  // its violations now fail with ENOSYS
    return;
  }
  listeners_[listener] = std::move(watched);
}

void SeccompWatch::handle(int listener, const Watched& watched) {
  const pid_t worker = watched.worker;
  seccomp_notif n{};
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n) != 0) return;  // the caller died meanwhile
  const std::string call = describeCall(n);
  const std::string detail = fmt::format("{}(0x{:x}, 0x{:x}, 0x{:x})", call, n.data.args[0],
                                         n.data.args[1], n.data.args[2]);
  const std::string& function = watched.function;
  // Recorded and counted before the kill: whoever reaps the worker asks why it died.
  {
    std::lock_guard lock(mu_);
    if (violations_.size() < kMaxRemembered) violations_.emplace(worker, detail);
  }
  metrics()
      .counter("sie_sandbox_violations_total",
               "Workers killed for a system call outside their function's seccomp allowlist.",
               {{"function", function}, {"syscall", call}})
      .inc();
  // The whole worker goes: its process group (which the caller cannot leave), then the caller.
  // The group first: were the caller killed alone, its parent in the group could see it die
  // and answer the invocation with an error of its own before the group's kill landed.
  kill(-worker, SIGKILL);
  kill(static_cast<pid_t>(n.pid), SIGKILL);
  seccomp_notif_resp answer{};
  answer.id = n.id;
  answer.error = -EPERM;
  ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &answer);  // unblocks it, should the kill be late
  Log("fn", function)
      .error("sandbox: killed worker {} (pid {}) for calling {}, which its seccomp policy forbids",
             worker, n.pid, detail);
}

}  // namespace sie::process
