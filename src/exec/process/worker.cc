#include "exec/process/worker.h"
#include "core/log.h"

#include <sched.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace sie::process {
namespace {

constexpr std::size_t kTailLines = 20;
constexpr int kChannelFd = 3;
// How long an obituary waits for a dead worker's output (a stray child may hold the pipe open).
constexpr std::chrono::milliseconds kLastWordsWait{500};

class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_{};
};

}  // namespace

Result<std::unique_ptr<Worker>> Worker::spawn(const WorkerPlan& plan, int instance, int channel,
                                              int tcp_port,
                                              const std::vector<std::string>& extra_env) {
  namespace fs = std::filesystem;
  const std::string label = fmt::format("{}#{}", plan.name, instance);
  std::error_code ec;
  // Made where the node sees the workers' folder: the function's scratch space through a
  // descriptor of it, or the host's folder, which is the same path inside the view.
  const std::string scratch = plan.view ? plan.view->scratchPath() : "";
  const std::string made_in = scratch.empty() ? plan.work_root : scratch;
  if (scratch.empty()) fs::create_directories(plan.work_root, ec);
  std::string dir_template = (fs::path(made_in) / "w-XXXXXX").string();
  if (mkdtemp(dir_template.data()) == nullptr) {
    return fail(Errc::kIo, fmt::format("[{}] cannot make a working directory under {}: {}", label,
                                       plan.work_root, std::strerror(errno)));
  }
  const std::string host_dir = dir_template;  // as the node reaches it
  const std::string work_dir =                // as the worker sees it
      (fs::path(plan.work_root) / fs::path(host_dir).filename()).string();
  auto cleanup_dir = [&] { fs::remove_all(host_dir, ec); };
  std::optional<UidPool::Lease> lease;
  if (plan.uids != nullptr) {
    auto acquired = plan.uids->acquire();
    if (!acquired) {
      cleanup_dir();
      return fail(acquired.error().code, fmt::format("[{}] {}", label, acquired.error().str()));
    }
    lease.emplace(std::move(*acquired));
  }
  if (lease && chown(host_dir.c_str(), lease->uid(), lease->uid()) != 0) {
    cleanup_dir();
    return fail(Errc::kIo, fmt::format("[{}] chown {}: {}", label, work_dir, std::strerror(errno)));
  }

  const int keep = channel >= 0 ? kChannelFd + 1 : kChannelFd;
  std::vector<std::string> argv{plan.launcher, "--cwd", work_dir};
  if (lease) {
    const std::string id = std::to_string(lease->uid());
    argv.insert(argv.end(), {"--uid", id, "--gid", id});
  }
  if (!plan.unshare.empty()) argv.insert(argv.end(), {"--unshare", plan.unshare});
  const std::vector<int> no_view;
  const std::vector<int>& view = plan.view ? plan.view->namespaces() : no_view;
  const int first_view_fd = keep + 2;  // after the seccomp program and its notification socket
  for (std::size_t i = 0; i < view.size(); ++i) {
    argv.insert(argv.end(), {"--join", std::to_string(first_view_fd + static_cast<int>(i))});
  }
  std::unique_ptr<WorkerCgroup> cgroup;
  if (plan.cgroups) {
    auto made = plan.cgroups->create(label, plan.cgroup_limits);
    if (!made) {
      cleanup_dir();
      return fail(made.error().code, fmt::format("[{}] {}", label, made.error().str()));
    }
    cgroup = std::move(*made);
    for (const auto& file : cgroup->procsFiles()) argv.insert(argv.end(), {"--cgroup", file});
  }
  for (const auto& [name, value] : plan.rlimits) {
    argv.insert(argv.end(), {"--rlimit", fmt::format("{}={}", name, value)});
  }
  for (const auto& path : plan.read_only) argv.insert(argv.end(), {"--ro", path});
  argv.insert(argv.end(), {"--rw", work_dir, "--rw", "/dev/null"});
  if (plan.network) {
    argv.emplace_back("--network");
  } else {
    if (tcp_port >= 0) argv.insert(argv.end(), {"--tcp-port", std::to_string(tcp_port)});
    for (const int port : plan.loopback_ports) {
      argv.insert(argv.end(), {"--tcp-port", std::to_string(port)});
    }
  }
  argv.insert(argv.end(), {"--keep-fds", std::to_string(keep)});
  const bool notify = plan.seccomp && plan.seccomp_watch != nullptr;
  if (plan.seccomp) argv.insert(argv.end(), {"--seccomp-fd", std::to_string(keep)});
  if (notify) {
    argv.insert(argv.end(),
                {"--seccomp-notify", std::to_string(keep + 1), "--function", plan.name});
  }
  argv.emplace_back("--");
  argv.push_back(plan.executable);
  argv.insert(argv.end(), plan.args.begin(), plan.args.end());

  std::vector<std::string> env = plan.env;
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  env.push_back("HOME=" + work_dir);
  env.push_back("TMPDIR=" + work_dir);
  std::vector<char*> c_argv, c_env;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  for (auto& e : env) c_env.push_back(e.data());
  c_env.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    cleanup_dir();
    return fail(Errc::kIo, fmt::format("[{}] pipe: {}", label, std::strerror(errno)));
  }
  FileActions actions;
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  posix_spawn_file_actions_adddup2(actions.get(), null_fd, 0);
  posix_spawn_file_actions_adddup2(actions.get(), out[1], 1);
  posix_spawn_file_actions_adddup2(actions.get(), out[1], 2);
  // Each descriptor the launcher inherits goes to its fixed number through a copy above all of
  // them, so no dup2 overwrites another's source.
  std::vector<int> copies;
  auto inherit = [&](int fd, int target) {
    const int copy = fcntl(fd, F_DUPFD_CLOEXEC, first_view_fd + static_cast<int>(view.size()));
    copies.push_back(copy);
    posix_spawn_file_actions_adddup2(actions.get(), copy, target);
  };
  if (channel >= 0) inherit(channel, kChannelFd);
  if (plan.seccomp) inherit(plan.seccomp->fd(), keep);
  if (notify) inherit(plan.seccomp_watch->launcherSocket(), keep + 1);
  for (std::size_t i = 0; i < view.size(); ++i) {
    inherit(view[i], first_view_fd + static_cast<int>(i));
  }
  pid_t pid = 0;
  int rc = 0;
  auto spawn = [&] {
    rc = posix_spawn(&pid, plan.launcher.c_str(), actions.get(), nullptr, c_argv.data(),
                     c_env.data());
  };
  if (const int pid_ns = plan.view ? plan.view->pidNamespace() : -1; pid_ns >= 0) {
    // Into the function's PID namespace: setns sets where the calling thread's children go, so
    // a short-lived thread spawns it and no other thread of the node is touched.
    std::thread([&] {
      if (setns(pid_ns, CLONE_NEWPID) != 0) {
        rc = errno;
        return;
      }
      spawn();
    }).join();
  } else {
    spawn();
  }
  close(out[1]);
  close(null_fd);
  for (const int copy : copies) close(copy);
  if (rc != 0) {
    close(out[0]);
    cleanup_dir();
    return fail(Errc::kIo,
                fmt::format("[{}] cannot start {}: {}", label, plan.launcher, std::strerror(rc)));
  }
  return std::unique_ptr<Worker>(new Worker(label, pid, out[0], host_dir, std::move(lease),
                                            std::move(cgroup),
                                            notify ? plan.seccomp_watch : nullptr, plan.view));
}

Worker::Worker(std::string label, pid_t pid, int out_fd, std::string work_dir,
               std::optional<UidPool::Lease> uid, std::unique_ptr<WorkerCgroup> cgroup,
               SeccompWatch* watch, std::shared_ptr<const FunctionView> view)
    : label_(std::move(label)),
      log_("fn", label_),
      pid_(pid),
      work_dir_(std::move(work_dir)),
      uid_(std::move(uid)),
      cgroup_(std::move(cgroup)),
      watch_(watch),
      view_(std::move(view)) {
  logger_ = std::thread([this, out_fd] { captureOutput(out_fd); });
}

Worker::~Worker() {
  kill();
  stopping_.store(true);
  if (logger_.joinable()) logger_.join();
  if (watch_ != nullptr) watch_->forget(pid_);
  std::error_code ec;
  std::filesystem::remove_all(work_dir_, ec);
}

void Worker::captureOutput(int fd) {
  std::string pending;
  char buffer[4096];
  for (;;) {
    // A stray descendant may hold the pipe open after the worker died: poll, and give up once
    // the worker is gone and the pipe stays quiet.
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) == 0) {
      if (stopping_.load()) break;
      continue;
    }
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string line = pending.substr(start, nl - start);
      log_.info("{}", line);
      std::lock_guard lock(mu_);
      tail_.push_back(std::move(line));
      if (tail_.size() > kTailLines) tail_.pop_front();
    }
    pending.erase(0, start);
    if (pending.size() > 8192) {  // a line without end: log it in pieces
      log_.info("{}", pending);
      pending.clear();
    }
  }
  close(fd);
  std::lock_guard lock(mu_);
  if (!pending.empty()) {
    log_.info("{}", pending);
    tail_.push_back(std::move(pending));
  }
  drained_ = true;
  drained_cv_.notify_all();
}

void Worker::reap(int options) {
  std::lock_guard lock(mu_);
  if (status_) return;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, options);
  } while (r < 0 && errno == EINTR);
  if (r == pid_ || (r < 0 && errno == ECHILD)) status_ = r == pid_ ? status : 0;
}

bool Worker::running() {
  reap(WNOHANG);
  std::lock_guard lock(mu_);
  return !status_;
}

void Worker::kill() {
  if (running()) {
    ::kill(-pid_, SIGKILL);  // the group: a worker's own children go too
    ::kill(pid_, SIGKILL);   // before sie-launch made the group
  }
  reap(0);
}

std::string Worker::exitReason() {
  if (running()) return "running";
  std::lock_guard lock(mu_);
  const int status = *status_;
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const bool killed = WTERMSIG(status) == SIGKILL;
    if (const auto call = killed && watch_ != nullptr ? watch_->violation(pid_) : std::nullopt) {
      return fmt::format("killed for calling {}, which the sandbox forbids (seccomp)", *call);
    }
    const bool memory = killed && cgroup_ && cgroup_->oomKilled();
    return fmt::format("killed by signal {} ({}){}", WTERMSIG(status), strsignal(WTERMSIG(status)),
                       memory ? ": over its memory limit (spec.process.memory)" : "");
  }
  return "stopped";
}

std::string Worker::obituary() {
  if (!running()) {  // its last words may still be in the pipe
    std::unique_lock lock(mu_);
    drained_cv_.wait_for(lock, kLastWordsWait, [this] { return drained_; });
  }
  std::string text = fmt::format("[{}] worker {}", label_, exitReason());
  if (const std::string tail = lastOutput(); !tail.empty()) text += "; last output: " + tail;
  return text;
}

std::string Worker::lastOutput() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& line : tail_) {
    if (!out.empty()) out += " | ";
    out += line;
  }
  return out;
}

}  // namespace sie::process
