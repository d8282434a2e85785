#include "exec/process/function_view.h"

#include "exec/process/descriptor_passing.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

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
  finish();
  const std::size_t expected =
      static_cast<std::size_t>(std::count(options.kinds.begin(), options.kinds.end(), ',')) + 1;
  if (fds.size() != expected) {
    for (const int fd : fds) close(fd);
    return fail(Errc::kIo, fmt::format("cannot make the function's namespaces ({}): {}",
                                       options.kinds, said.empty() ? "no answer" : said));
  }
  return std::shared_ptr<const FunctionView>(new FunctionView(std::move(fds)));
}

FunctionView::~FunctionView() {
  for (const int fd : fds_) close(fd);
}

}  // namespace sie::process
