#include "exec/process/worker_cgroups.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sie::process {
namespace {

namespace fs = std::filesystem;

constexpr const char* kControllers[] = {"memory", "pids", "cpu"};
constexpr long kCpuPeriodUs = 100'000;

struct Mount {
  std::string root;  // the cgroup path mounted there
  std::string point;
  std::string type;     // cgroup, cgroup2
  std::string options;  // super options: "rw,memory"
};

std::vector<Mount> cgroupMounts() {
  std::vector<Mount> out;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, rest;
    fields >> id >> parent >> dev >> root >> point;
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    Mount m{root, point, "", ""};
    std::string source;
    tail >> m.type >> source >> m.options;
    if (m.type == "cgroup" || m.type == "cgroup2") out.push_back(std::move(m));
  }
  return out;
}

bool hasOption(const std::string& options, std::string_view name) {
  std::string_view rest(options);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    if (rest.substr(0, comma) == name) return true;
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return false;
}

// The node's cgroup path in the hierarchy holding `controller` ("" for v2's), from
// /proc/self/cgroup; nullopt when it is in none.
std::optional<std::string> ownPath(std::string_view controller) {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    if (controller.empty() ? line.starts_with("0::") : hasOption(controllers, controller)) {
      return line.substr(second + 1);
    }
  }
  return std::nullopt;
}

// Where the node's own cgroup is in the file system, for `mount`.
std::string ownDir(const Mount& mount, const std::string& path) {
  std::string relative = path;
  if (mount.root != "/" && relative.starts_with(mount.root)) relative.erase(0, mount.root.size());
  return (fs::path(mount.point) / fs::path(relative).relative_path()).lexically_normal().string();
}

Status writeFile(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail(Errc::kIo, fmt::format("cannot open: {}", std::strerror(errno)), path);
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int error = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return fail(Errc::kIo, fmt::format("cannot write '{}': {}", text, std::strerror(error)), path);
  }
  return ok();
}

Status makeDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail(Errc::kIo, fmt::format("cannot make a cgroup: {}", std::strerror(errno)), dir);
  }
  return ok();
}

// Removes a cgroup once the kernel has let go of its last process (killed processes leave
// it shortly after they are reaped).
bool removeDir(const std::string& dir) {
  for (int attempt = 0; attempt < 40; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

std::string fileName(std::string_view name) {
  std::string out;
  for (const char c : name) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
    out += plain ? c : '_';
  }
  return out;
}

// Folders of nodes that died without removing theirs ("sie-<pid>" of no running process).
void removeStale(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("sie-") || !entry.is_directory(ec)) continue;
    const long pid = std::strtol(name.c_str() + 4, nullptr, 10);
    if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    for (const auto& worker : fs::directory_iterator(entry.path(), ec)) {
      if (worker.is_directory(ec)) ::rmdir(worker.path().c_str());
    }
    ::rmdir(entry.path().c_str());
  }
}

// The node's folder for workers on cgroup v2, made ready; nullopt with `why` when it cannot be.
std::optional<std::string> prepareV2(const Mount& mount, std::string& why) {
  const auto path = ownPath("");
  if (!path) {
    why = "cgroup v2: the node is in no v2 cgroup";
    return std::nullopt;
  }
  const std::string dir = ownDir(mount, *path);
  std::string available;
  std::getline(std::ifstream(dir + "/cgroup.controllers"), available);
  const auto offered = [&](const char* name) {
    std::istringstream words(available);
    for (std::string word; words >> word;) {
      if (word == name) return true;
    }
    return false;
  };
  if (!offered("memory") || !offered("pids")) {
    why = fmt::format("cgroup v2: memory and pids are not delegated to {} (it has: {})", dir,
                      available.empty() ? "none" : available);
    return std::nullopt;
  }
  // No process may stay in a cgroup that hands controllers to its children: the node moves
  // into a leaf of its own first, as a delegated service does.
  const std::string leaf = dir + "/node";
  removeStale(dir);
  const std::string root = fmt::format("{}/sie-{}", dir, ::getpid());
  const std::string enable = offered("cpu") ? "+memory +pids +cpu" : "+memory +pids";
  const Status ready =
      makeDir(leaf)
          .and_then([&] { return writeFile(leaf + "/cgroup.procs", std::to_string(::getpid())); })
          .and_then([&] { return writeFile(dir + "/cgroup.subtree_control", enable); })
          .and_then([&] { return makeDir(root); })
          .and_then([&] { return writeFile(root + "/cgroup.subtree_control", enable); });
  if (!ready) {
    why = "cgroup v2: " + ready.error().str();
    return std::nullopt;
  }
  return root;
}

}  // namespace

WorkerCgroup::~WorkerCgroup() {
  for (const auto& dir : dirs_) {
    if (!removeDir(dir)) spdlog::debug("cgroup {} stays: {}", dir, std::strerror(errno));
  }
}

std::vector<std::string> WorkerCgroup::procsFiles() const {
  std::vector<std::string> out;
  for (const auto& dir : dirs_) out.push_back(dir + "/cgroup.procs");
  return out;
}

bool WorkerCgroup::oomKilled() const {
  for (const auto& dir : dirs_) {
    for (const char* file : {"/memory.events", "/memory.oom_control"}) {
      std::ifstream in(dir + file);
      for (std::string key; in >> key;) {
        long long count = 0;
        in >> count;
        if (key == "oom_kill" && count > 0) return true;
      }
    }
  }
  return false;
}

std::shared_ptr<WorkerCgroups> WorkerCgroups::open(std::string& why) {
  if (::geteuid() != 0) {
    why = "the node is not root";
    return nullptr;
  }
  const std::vector<Mount> mounts = cgroupMounts();
  for (const Mount& mount : mounts) {
    if (mount.type == "cgroup2" && std::ifstream(mount.point + "/cgroup.controllers").good()) {
      if (auto root = prepareV2(mount, why)) {
        return std::shared_ptr<WorkerCgroups>(new WorkerCgroups(true, {{"", *root}}));
      }
    }
  }
  std::vector<Root> roots;
  for (const char* controller : kControllers) {
    for (const Mount& mount : mounts) {
      if (mount.type != "cgroup" || !hasOption(mount.options, controller)) continue;
      const auto path = ownPath(controller);
      if (!path) continue;
      removeStale(ownDir(mount, *path));
      const std::string root = fmt::format("{}/sie-{}", ownDir(mount, *path), ::getpid());
      if (auto made = makeDir(root); !made) {
        why = fmt::format("cgroup v1 {}: {}", controller, made.error().str());
        continue;
      }
      roots.push_back({controller, root});
      break;
    }
  }
  const auto has = [&](std::string_view c) {
    return std::any_of(roots.begin(), roots.end(),
                       [&](const Root& r) { return r.controller == c; });
  };
  if (!has("memory") || !has("pids")) {
    for (const Root& r : roots) ::rmdir(r.dir.c_str());
    if (why.empty()) why = "neither cgroup v2 nor v1's memory and pids controllers are mounted";
    return nullptr;
  }
  return std::shared_ptr<WorkerCgroups>(new WorkerCgroups(false, std::move(roots)));
}

const std::shared_ptr<WorkerCgroups>& WorkerCgroups::shared(std::string* why) {
  static std::string reason;
  static const std::shared_ptr<WorkerCgroups> layer = open(reason);
  if (why != nullptr) *why = reason;
  return layer;
}

WorkerCgroups::~WorkerCgroups() {
  for (const Root& root : roots_) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root.dir, ec)) {
      if (entry.is_directory(ec)) ::rmdir(entry.path().c_str());
    }
    ::rmdir(root.dir.c_str());
  }
}

Result<std::unique_ptr<WorkerCgroup>> WorkerCgroups::create(const std::string& name,
                                                            const CgroupLimits& limits) {
  static std::atomic<std::uint64_t> serial{0};
  const std::string leaf = fmt::format("{}-{}", fileName(name), ++serial);
  // Removes what it made if a step fails.
  auto cgroup = std::make_unique<WorkerCgroup>(std::vector<std::string>{});
  for (const Root& root : roots_) {
    const std::string dir = root.dir + "/" + leaf;
    SIE_CHECK(makeDir(dir));
    cgroup->dirs_.push_back(dir);
    const auto set = [&](const char* file, const std::string& value) {
      return writeFile(dir + "/" + file, value);
    };
    const bool memory = v2_ || root.controller == "memory";
    const bool pids = v2_ || root.controller == "pids";
    const bool cpu = v2_ || root.controller == "cpu";
    if (memory && limits.memory_bytes > 0) {
      SIE_CHECK(
          set(v2_ ? "memory.max" : "memory.limit_in_bytes", std::to_string(limits.memory_bytes)));
      if (v2_) (void)set("memory.swap.max", "0");  // absent without swap accounting
    }
    if (pids && limits.pids > 0) SIE_CHECK(set("pids.max", std::to_string(limits.pids)));
    if (cpu && limits.cpus > 0) {
      const long quota = std::max(1000L, static_cast<long>(limits.cpus * kCpuPeriodUs));
      if (v2_) {
        if (fs::exists(dir + "/cpu.max")) {
          SIE_CHECK(set("cpu.max", fmt::format("{} {}", quota, kCpuPeriodUs)));
        }
      } else {
        SIE_CHECK(set("cpu.cfs_period_us", std::to_string(kCpuPeriodUs)));
        SIE_CHECK(set("cpu.cfs_quota_us", std::to_string(quota)));
      }
    }
  }
  return cgroup;
}

std::string WorkerCgroups::describe() const {
  if (v2_) return "cgroup v2 (memory, pids, cpu)";
  std::string names;
  for (const Root& root : roots_) names += (names.empty() ? "" : ", ") + root.controller;
  return fmt::format("cgroup v1 ({})", names);
}

}  // namespace sie::process
