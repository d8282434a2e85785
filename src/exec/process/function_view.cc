#include "exec/process/function_view.h"

#include "exec/process/descriptor_passing.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <thread>

#include <fmt/format.h>

namespace sie::process {
namespace {

constexpr int kViewSocketFd = 3;
constexpr int kMakeTimeoutMs = 5000;

std::string readAll(int fd) {
  std::string text;
  char buffer[512];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) {
    text.append(buffer, static_cast<std::size_t>(n));
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

bool hasKind(const std::string& kinds, std::string_view kind) {
  return ("," + kinds + ",").find("," + std::string(kind) + ",") != std::string::npos;
}

}  // namespace

Result<std::shared_ptr<const FunctionView>> FunctionView::make(const Options& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.workers_folder, ec);
  if (ec) {
    return fail(Errc::kIo, fmt::format("cannot make the workers' folder {}: {}",
                                       options.workers_folder, ec.message()));
  }
  std::vector<std::string> argv{
      options.launcher,      "--make-view", std::to_string(kViewSocketFd), "--unshare",
      options.kinds,         "--cwd",       options.workers_folder,        "--rw",
      options.workers_folder};
  if (options.loopback) argv.emplace_back("--loopback");
  if (options.scratch_bytes > 0) {
    argv.insert(argv.end(), {"--scratch", std::to_string(options.scratch_bytes)});
  }
  for (const auto& path : options.read_only) argv.insert(argv.end(), {"--ro", path});
  for (const auto& path : options.writable) argv.insert(argv.end(), {"--rw", path});
  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  char* no_env[] = {nullptr};

  int ends[2], err[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
    return fail(Errc::kIo, fmt::format("socketpair: {}", std::strerror(errno)));
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(ends[0]);
    close(ends[1]);
    return fail(Errc::kIo, fmt::format("pipe: {}", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, ends[1], kViewSocketFd);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  pid_t pid = 0;
  const int rc =
      posix_spawn(&pid, options.launcher.c_str(), &actions, nullptr, c_argv.data(), no_env);
  posix_spawn_file_actions_destroy(&actions);
  close(ends[1]);
  close(err[1]);
  auto finish = [&] {
    close(ends[0]);
    close(err[0]);
  };
  if (rc != 0) {
    finish();
    return fail(Errc::kIo, fmt::format("cannot start {}: {}", options.launcher, std::strerror(rc)));
  }
  std::vector<int> fds;
  pollfd p{ends[0], POLLIN, 0};
  if (poll(&p, 1, kMakeTimeoutMs) == 1) {
    char ok = 0;
    if (receiveDescriptors(ends[0], {&ok, 1}, fds) != 1) {
      for (const int fd : fds) close(fd);
      fds.clear();
    }
  }
  if (fds.empty()) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string said = readAll(err[0]);
  close(err[0]);
  const std::size_t expected =
      static_cast<std::size_t>(std::count(options.kinds.begin(), options.kinds.end(), ',')) + 1 +
      (options.scratch_bytes > 0 ? 1 : 0);
  if (fds.size() != expected) {
    for (const int fd : fds) close(fd);
    close(ends[0]);  // ends the PID namespace's first process, if one started
    return fail(Errc::kIo, fmt::format("cannot make the function's namespaces ({}): {}",
                                       options.kinds, said.empty() ? "no answer" : said));
  }
  // The launcher sends the mount namespace first, then the network's and the PID namespace's,
  // then the scratch space. The PID namespace's first process lives while ends[0] is open.
  Parts parts;
  auto take = [&](bool present) {
    if (!present) return -1;
    const int fd = fds.back();
    fds.pop_back();
    return fd;
  };
  parts.scratch = take(options.scratch_bytes > 0);
  parts.pid = take(hasKind(options.kinds, "pid"));
  parts.net = hasKind(options.kinds, "net") ? fds.back() : -1;
  parts.lifeline = parts.pid >= 0 ? ends[0] : -1;
  if (parts.pid < 0) close(ends[0]);
  std::shared_ptr<FunctionView> view(new FunctionView(std::move(fds), parts));
  for (const int port : options.relayed_ports) {
    const int listener = SIE_TRY(view->listen(static_cast<std::uint16_t>(port)));
    view->relays_.push_back(
        SIE_TRY(LoopbackRelay::start(listener, static_cast<std::uint16_t>(port))));
  }
  return std::shared_ptr<const FunctionView>(std::move(view));
}

Result<int> FunctionView::listen(std::uint16_t port) const {
  if (parts_.net < 0) return fail(Errc::kInvalidArgument, "the function has no network of its own");
  int listener = -1;
  std::string failed;
  // setns moves only the calling thread, so a short-lived one makes the socket: it stays in the
  // function's network for life, while every thread of the node stays in the host's.
  std::thread([&] {
    if (setns(parts_.net, CLONE_NEWNET) != 0) {
      failed = fmt::format("entering the function's network: {}", std::strerror(errno));
      return;
    }
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (listener < 0 ||
        bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener, SOMAXCONN) != 0) {
      failed = fmt::format("listening on 127.0.0.1:{} in the function's network: {}", port,
                           std::strerror(errno));
      if (listener >= 0) close(listener);
      listener = -1;
    }
  }).join();
  if (listener < 0) return fail(Errc::kIo, failed);
  return listener;
}

FunctionView::~FunctionView() {
  for (const int fd : fds_) close(fd);
  for (const int fd : {parts_.pid, parts_.scratch, parts_.lifeline}) {
    if (fd >= 0) close(fd);
  }
}

std::string FunctionView::scratchPath() const {
  return parts_.scratch >= 0 ? fmt::format("/proc/self/fd/{}", parts_.scratch) : "";
}

}  // namespace sie::process
