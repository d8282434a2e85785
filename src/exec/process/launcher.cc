// sie-launch: the first program of every process-runtime worker. The node posix_spawns it (a big
// process must not fork); it confines itself, then execs the function's executable:
//   rlimits, its own process group, its cgroups, namespaces of its own (IPC, UTS) and its
//   function's (--join: a root view of its own, and a network of its own — without interfaces,
//   or with only the node's APIs on its loopback; made once by --make-view), working directory,
//   Landlock (read-only system and handler paths, read-write working directory, TCP only to the
//   runtime's port), an unprivileged user when started as root, no_new_privs, and last the seccomp
//   filter the node built once per function and passed as a file descriptor.
//
//   sie-launch [--cwd DIR] [--uid N --gid N] [--rlimit NAME=VALUE]... [--ro PATH]... [--rw PATH]...
//              [--cgroup PROCS_FILE]... [--unshare ipc,uts,mnt,net] [--tcp-port P]... [--network]
//              [--join NS_FD]... [--seccomp-fd FD [--seccomp-notify FD --function NAME]]
//              [--keep-fds N] -- EXECUTABLE ARGS...
//   sie-launch --make-view SOCKET_FD --unshare mnt[,net][,pid] [--loopback] [--scratch BYTES]
//              --cwd DIR [--ro PATH]... [--rw PATH]...
//
// --loopback brings the new network namespace's loopback up: the node serves a Lambda or Dapr
// worker's API on it, and nothing else is there. --scratch puts the workers' folder (DIR) on a
// tmpfs of that size inside the view, and sends the node a descriptor of it after the
// namespaces: all the function's workers together write no more than that. With pid, a first
// process stays in the new PID namespace (see startInit): it mounts the namespace's own /proc in
// the view, reaps orphans, and when the node closes its end of SOCKET_FD (the view dropped, or
// the node gone) it ends, and the kernel kills every process left in the namespace.
//
// With --seccomp-notify, the filter is installed with a listener (seccomp user notification),
// sent with this pid and the function's name over that Unix socket to the node, and closed with it
// before the exec: the node kills and reports a worker that calls outside its allowlist. Where the
// kernel refuses a listener (one is already installed above), such calls fail with ENOSYS instead.
//
// It is linked statically: no dynamic loader reads the worker's environment (LD_PRELOAD, ...)
// while it still runs as root. Failures print one line "sie-launch: ..." on stderr and exit 127,
// before the function runs.
// Landlock is required; a kernel without it fails the start (the node reports the line).
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "sie-launch: %s\n", what.c_str());
  std::_Exit(127);
}

[[noreturn]] void dieErrno(const std::string& what) { die(what + ": " + std::strerror(errno)); }

// Landlock ABI as of Linux 6.12, declared here because Debian 12's headers stop at ABI 2.
struct RulesetAttr {
  std::uint64_t handled_access_fs = 0;
  std::uint64_t handled_access_net = 0;
  std::uint64_t scoped = 0;
};
struct NetPortAttr {
  std::uint64_t allowed_access = 0;
  std::uint64_t port = 0;
};
constexpr int kRuleNetPort = 2;
constexpr std::uint64_t kNetBindTcp = 1ULL << 0;
constexpr std::uint64_t kNetConnectTcp = 1ULL << 1;
constexpr std::uint64_t kScopeAbstractUnix = 1ULL << 0;
constexpr std::uint64_t kScopeSignal = 1ULL << 1;
constexpr std::uint64_t kFsRefer = 1ULL << 13;
constexpr std::uint64_t kFsTruncate = 1ULL << 14;
constexpr std::uint64_t kFsIoctlDev = 1ULL << 15;
constexpr std::uint64_t kFsRead =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr std::uint64_t kFsAllV1 = (1ULL << 13) - 1;

struct Plan {
  std::string cwd;
  long uid = -1, gid = -1;
  std::vector<std::pair<int, rlim_t>> rlimits;
  std::vector<std::string> ro, rw;
  std::vector<long> tcp_ports;  // the only TCP ports a worker may connect to
  bool network = false;
  int seccomp_fd = -1;
  int notify_fd = -1;              // the node's socket for the seccomp listener
  std::string function;            // named with the listener, for the node's reports
  int view_socket = -1;            // --make-view: where the namespaces made go, instead of an exec
  std::vector<int> join;           // namespaces to enter (setns), made once per function
  int keep_fds = 3;                // 0, 1, 2 and, e.g., the native channel at 3
  int unshare = 0;                 // CLONE_NEW* flags
  bool loopback = false;           // bring up the new network namespace's lo
  unsigned long long scratch = 0;  // bytes of the view's workers' folder (a tmpfs); 0: the host's
  std::vector<std::string> cgroups;  // cgroup.procs files to join
  char** argv = nullptr;
};

int namespaceFlags(std::string_view list) {
  int flags = 0;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view name = list.substr(0, comma);
    if (name == "ipc") {
      flags |= CLONE_NEWIPC;
    } else if (name == "uts") {
      flags |= CLONE_NEWUTS;
    } else if (name == "net") {
      flags |= CLONE_NEWNET;
    } else if (name == "mnt") {
      flags |= CLONE_NEWNS;
    } else if (name == "pid") {
      flags |= CLONE_NEWPID;
    } else {
      die("unknown namespace '" + std::string(name) + "' for --unshare (ipc, uts, mnt, net, pid)");
    }
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return flags;
}

long number(std::string_view text, const char* flag) {
  char* end = nullptr;
  const std::string s(text);
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end == s.c_str() || *end != '\0' || v < 0) {
    die(std::string(flag) + " needs a non-negative number, got '" + s + "'");
  }
  return static_cast<long>(v);
}

int rlimitId(std::string_view name) {
  if (name == "as") return RLIMIT_AS;
  if (name == "cpu") return RLIMIT_CPU;
  if (name == "nofile") return RLIMIT_NOFILE;
  if (name == "nproc") return RLIMIT_NPROC;
  if (name == "fsize") return RLIMIT_FSIZE;
  if (name == "core") return RLIMIT_CORE;
  die("unknown rlimit '" + std::string(name) + "' (as, cpu, nofile, nproc, fsize, core)");
}

Plan parse(int argc, char** argv) {
  Plan plan;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) die(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--") {
      if (i + 1 >= argc) die("no executable after --");
      plan.argv = argv + i + 1;
      return plan;
    }
    if (arg == "--cwd") {
      plan.cwd = value();
    } else if (arg == "--uid") {
      plan.uid = number(value(), "--uid");
    } else if (arg == "--gid") {
      plan.gid = number(value(), "--gid");
    } else if (arg == "--rlimit") {
      const std::string_view v = value();
      const auto eq = v.find('=');
      if (eq == std::string_view::npos) die("--rlimit needs NAME=VALUE");
      plan.rlimits.emplace_back(rlimitId(v.substr(0, eq)),
                                static_cast<rlim_t>(number(v.substr(eq + 1), "--rlimit")));
    } else if (arg == "--ro") {
      plan.ro.emplace_back(value());
    } else if (arg == "--rw") {
      plan.rw.emplace_back(value());
    } else if (arg == "--tcp-port") {
      plan.tcp_ports.push_back(number(value(), "--tcp-port"));
    } else if (arg == "--cgroup") {
      plan.cgroups.emplace_back(value());
    } else if (arg == "--unshare") {
      plan.unshare = namespaceFlags(value());
    } else if (arg == "--network") {
      plan.network = true;
    } else if (arg == "--loopback") {
      plan.loopback = true;
    } else if (arg == "--scratch") {
      plan.scratch = static_cast<unsigned long long>(number(value(), "--scratch"));
    } else if (arg == "--seccomp-fd") {
      plan.seccomp_fd = static_cast<int>(number(value(), "--seccomp-fd"));
    } else if (arg == "--seccomp-notify") {
      plan.notify_fd = static_cast<int>(number(value(), "--seccomp-notify"));
    } else if (arg == "--make-view") {
      plan.view_socket = static_cast<int>(number(value(), "--make-view"));
    } else if (arg == "--join") {
      plan.join.push_back(static_cast<int>(number(value(), "--join")));
    } else if (arg == "--function") {
      plan.function = value();
    } else if (arg == "--keep-fds") {
      plan.keep_fds = static_cast<int>(number(value(), "--keep-fds"));
    } else {
      die("unknown option '" + std::string(arg) + "'");
    }
  }
  if (plan.view_socket >= 0) {
    if ((plan.unshare & CLONE_NEWPID) != 0 && (plan.unshare & CLONE_NEWNS) == 0) {
      die("--unshare pid needs mnt: the namespace's /proc is mounted in the view");
    }
    return plan;
  }
  // A PID namespace has one first process for life: made with the view, never per worker.
  if ((plan.unshare & CLONE_NEWPID) != 0) die("--unshare pid is for --make-view");
  die("missing -- EXECUTABLE");
}

void addPath(int ruleset, const std::string& path, std::uint64_t access, std::uint64_t handled) {
  const int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;  // e.g. /lib64 on some systems
    dieErrno("cannot open " + path + " for the sandbox");
  }
  struct stat st {};
  fstat(fd, &st);
  // Directory-only rights on a file are refused by the kernel.
  if (!S_ISDIR(st.st_mode)) {
    access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
              LANDLOCK_ACCESS_FS_WRITE_FILE | kFsTruncate | kFsIoctlDev;
  }
  landlock_path_beneath_attr rule{};
  rule.allowed_access = access & handled;
  rule.parent_fd = fd;
  if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
    dieErrno("landlock rule for " + path);
  }
  close(fd);
}

void landlock(const Plan& plan) {
  const long abi =
      syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) {
    die("Landlock is not available on this kernel (needs Linux >= 5.13 with landlock in lsm=); "
        "process functions cannot be isolated");
  }
  RulesetAttr attr;
  attr.handled_access_fs = kFsAllV1;
  if (abi >= 2) attr.handled_access_fs |= kFsRefer;
  if (abi >= 3) attr.handled_access_fs |= kFsTruncate;
  if (abi >= 5) attr.handled_access_fs |= kFsIoctlDev;
  if (abi >= 4 && !plan.network) attr.handled_access_net = kNetBindTcp | kNetConnectTcp;
  if (abi >= 6) attr.scoped = kScopeAbstractUnix | kScopeSignal;
  std::size_t size = abi >= 6 ? sizeof(RulesetAttr) : abi >= 4 ? 16 : 8;
  const int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0));
  if (ruleset < 0) dieErrno("landlock ruleset");
  for (const auto& path : plan.ro) addPath(ruleset, path, kFsRead, attr.handled_access_fs);
  for (const auto& path : plan.rw)
    addPath(ruleset, path, attr.handled_access_fs, attr.handled_access_fs);
  for (const long p : attr.handled_access_net != 0 ? plan.tcp_ports : std::vector<long>{}) {
    NetPortAttr port{kNetConnectTcp, static_cast<std::uint64_t>(p)};
    if (syscall(SYS_landlock_add_rule, ruleset, kRuleNetPort, &port, 0) != 0) {
      dieErrno("landlock port rule");
    }
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) dieErrno("no_new_privs");
  if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) dieErrno("landlock_restrict_self");
  close(ruleset);
}

// The mount flags `path`'s own mount has (a bind must not make a noexec folder executable).
unsigned long mountFlags(const std::string& path) {
  struct statvfs st {};
  if (statvfs(path.c_str(), &st) != 0) return MS_NOSUID | MS_NODEV | MS_NOEXEC;
  unsigned long flags = 0;
  if ((st.f_flag & ST_NOSUID) != 0) flags |= MS_NOSUID;
  if ((st.f_flag & ST_NODEV) != 0) flags |= MS_NODEV;
  if ((st.f_flag & ST_NOEXEC) != 0) flags |= MS_NOEXEC;
  return flags;
}

void makeDirs(const std::string& path) {
  for (std::size_t at = 1; at != std::string::npos;) {
    at = path.find('/', at + 1);
    const std::string prefix = path.substr(0, at);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) dieErrno("mkdir " + prefix);
  }
}

// Makes `target` (under the new root) a file or folder like `path` for a mount to cover.
void mountPoint(const std::string& target, bool dir) {
  makeDirs(target.substr(0, target.rfind('/')));
  if (dir) {
    if (mkdir(target.c_str(), 0755) != 0 && errno != EEXIST) dieErrno("mkdir " + target);
    return;
  }
  const int fd = open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST && errno != EROFS) dieErrno("creating " + target);
  if (fd >= 0) close(fd);
}

void restrictMount(const std::string& target, const std::string& path, bool writable) {
  const unsigned long flags =
      MS_BIND | MS_REMOUNT | MS_NOSUID | mountFlags(path) | (writable ? 0 : MS_RDONLY);
  if (mount(nullptr, target.c_str(), nullptr, flags, nullptr) != 0) {
    dieErrno("remounting " + path);
  }
}

// `path` appears at the same place under `root`: a bind mount (read-only unless `writable`), or
// the same symlink (/lib -> usr/lib).
void bindInto(const std::string& root, const std::string& path, bool writable) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;  // e.g. /lib64 on some systems
    dieErrno("cannot see " + path + " for the root view");
  }
  const std::string target = root + path;
  if (S_ISLNK(st.st_mode)) {
    makeDirs(target.substr(0, target.rfind('/')));
    char link[4096];
    const ssize_t n = readlink(path.c_str(), link, sizeof(link) - 1);
    if (n < 0) dieErrno("readlink " + path);
    link[n] = '\0';
    if (symlink(link, target.c_str()) != 0 && errno != EEXIST) dieErrno("symlink " + target);
    return;
  }
  mountPoint(target, S_ISDIR(st.st_mode));
  if (mount(path.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    dieErrno("bind-mounting " + path);
  }
  restrictMount(target, path, writable);
}

// A new network namespace's only interface, lo, starts down.
void loopbackUp() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) dieErrno("socket for the loopback");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &request) != 0) dieErrno("reading the loopback's flags");
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (ioctl(fd, SIOCSIFFLAGS, &request) != 0) dieErrno("bringing the loopback up");
  close(fd);
}

// A mount namespace whose root holds only what the worker may use: the system folders, the
// function's, its working directory and a few devices, at their usual paths, on an otherwise
// empty read-only tmpfs. Nothing else of the host is reachable by path: no /run (D-Bus,
// journald, container runtime sockets), /home, /var, other workers' folders, the node's data.
// With --scratch, returns a descriptor of the workers' folder inside it, else -1.
int rootView(const Plan& plan) {
  if (plan.cwd.empty()) die("--unshare mnt needs --cwd");
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    dieErrno("making the mounts private");
  }
  // The new root is a tmpfs over the (empty) working directory; the directory itself goes back
  // inside it from a copy of its mount taken before it was covered, or, with --scratch, as a
  // tmpfs of that size.
  const std::string root = plan.cwd;
  long work = -1;
  if (plan.scratch == 0) {
    work = syscall(SYS_open_tree, AT_FDCWD, root.c_str(), OPEN_TREE_CLONE | O_CLOEXEC);
    if (work < 0) dieErrno("open_tree " + root);
  }
  if (mount("sie-root", root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") != 0) {
    dieErrno("mounting the root view");
  }
  std::vector<std::string> ro = plan.ro;
  // Shorter first: a folder bound later inside another is not covered by it.
  std::sort(ro.begin(), ro.end(),
            [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
  bool proc = false;
  for (const auto& path : ro) {
    if (path == "/proc" || path.starts_with("/proc/")) {
      // /proc/self is a different link in every process: the whole procfs, Landlock keeps the
      // worker to its own entries. With a PID namespace, its own procfs goes there (startInit).
      if (!proc && (plan.unshare & CLONE_NEWPID) != 0) mountPoint(root + "/proc", true);
      if (!proc && (plan.unshare & CLONE_NEWPID) == 0) bindInto(root, "/proc", false);
      proc = true;
      continue;
    }
    bindInto(root, path, false);
  }
  for (const auto& path : plan.rw) {
    if (path != plan.cwd) bindInto(root, path, true);
  }
  const std::string inside = root + root;
  mountPoint(inside, true);
  if (plan.scratch > 0) {
    // Inodes bounded too (each costs memory): one per 4 KiB page, at least 256.
    const std::string options = "mode=0755,size=" + std::to_string(plan.scratch) + ",nr_inodes=" +
                                std::to_string(std::max(256ULL, plan.scratch / 4096));
    if (mount("sie-scratch", inside.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      dieErrno("mounting the workers' scratch space");
    }
  } else {
    if (syscall(SYS_move_mount, static_cast<int>(work), "", AT_FDCWD, inside.c_str(),
                MOVE_MOUNT_F_EMPTY_PATH) != 0) {
      dieErrno("mounting the working directory in the root view");
    }
    close(static_cast<int>(work));
    restrictMount(inside, inside, true);
  }
  if (chdir(root.c_str()) != 0) dieErrno("chdir " + root);
  if (syscall(SYS_pivot_root, ".", ".") != 0) dieErrno("pivot_root");
  if (umount2(".", MNT_DETACH) != 0) dieErrno("detaching the host's root");
  if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0) {
    dieErrno("making the root view read-only");
  }
  if (plan.scratch == 0) return -1;
  const int scratch = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (scratch < 0) dieErrno("opening the workers' scratch space");
  return scratch;
}

void onChild(int /*signal*/) {}

// The first process of the function's PID namespace, forked into it: it mounts the namespace's
// own /proc in the view (so a worker's pid and its /proc agree), drops to nobody, reaps the
// orphans workers leave, and ends once the node closes its end of the view socket — taking
// every process still in the namespace with it, so nothing a worker started outlives its
// function or its node. Returns in the caller once it is ready.
void startInit(const Plan& plan) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) dieErrno("pipe");
  const pid_t init = fork();
  if (init < 0) dieErrno("starting the PID namespace's first process");
  if (init > 0) {
    close(ready[1]);
    char said[256] = {};
    const ssize_t n = read(ready[0], said, sizeof(said) - 1);
    close(ready[0]);
    if (n != 1 || said[0] != '1') die(n > 0 ? said : "the PID namespace's first process failed");
    return;
  }
  close(ready[0]);
  const auto fail = [&](const std::string& what) {
    const std::string line = what + ": " + std::strerror(errno);
    (void)!write(ready[1], line.data(), line.size());
    std::_Exit(127);
  };
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    fail("mounting the PID namespace's /proc");
  }
  constexpr gid_t kNobody = 65534;
  if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) {
    fail("dropping to nobody");
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("no_new_privs");
  struct sigaction reap {};
  reap.sa_handler = onChild;  // no SA_RESTART: a child's end interrupts the poll below
  sigaction(SIGCHLD, &reap, nullptr);
  (void)!write(ready[1], "1", 1);
  for (int fd = 0; fd < plan.view_socket; ++fd) close(fd);  // stderr too: the node reads it to EOF
  close_range(static_cast<unsigned>(plan.view_socket) + 1, ~0U, 0);
  for (;;) {
    pollfd lifeline{plan.view_socket, POLLIN, 0};
    const int n = poll(&lifeline, 1, -1);
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    char byte = 0;
    if (n > 0 && ((lifeline.revents & (POLLHUP | POLLERR)) != 0 ||
                  recv(plan.view_socket, &byte, 1, MSG_DONTWAIT) == 0)) {
      std::_Exit(0);
    }
  }
}

// This process's pid as the node knows it, read through the node's /proc before the function's
// is entered (a launcher started in the function's PID namespace has another pid there).
pid_t nodeVisiblePid() {
  char link[32] = {};
  const ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);
  return n > 0 ? static_cast<pid_t>(std::atoi(link)) : getpid();
}

// Sends `payload` with descriptors over a Unix socket (SCM_RIGHTS); false when not sent.
bool sendDescriptors(int socket, const std::string& payload, const std::vector<int>& fds) {
  iovec io{const_cast<char*>(payload.data()), payload.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  if (fds.empty() || fds.size() > 4) return false;
  msghdr msg{};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  return sendmsg(socket, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(payload.size());
}

std::vector<sock_filter> readProgram(int fd) {
  std::vector<sock_filter> program;
  sock_filter buffer[512];
  off_t offset = 0;
  for (;;) {
    const ssize_t n = pread(fd, buffer, sizeof(buffer), offset);
    if (n < 0) dieErrno("reading the seccomp program");
    if (n == 0) break;
    if (n % sizeof(sock_filter) != 0) die("the seccomp program is truncated");
    program.insert(program.end(), buffer, buffer + n / sizeof(sock_filter));
    offset += n;
  }
  if (program.empty() || program.size() > BPF_MAXINSNS)
    die("the seccomp program is empty or too long");
  close(fd);
  return program;
}

void seccomp(const Plan& plan, pid_t self) {
  std::vector<sock_filter> program = readProgram(plan.seccomp_fd);
  sock_fprog prog{static_cast<unsigned short>(program.size()), program.data()};
  if (plan.notify_fd >= 0) {
    const long listener =
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (listener >= 0) {
      // To the node with this pid (the worker's, after the exec) and the function's name.
      // Unsent, the listener closes below and violations fail with ENOSYS: still confined.
      std::string message(sizeof(pid_t), '\0');
      std::memcpy(message.data(), &self, sizeof(self));
      message += plan.function.substr(0, 200);
      sendDescriptors(plan.notify_fd, message, {static_cast<int>(listener)});
      close(static_cast<int>(listener));
      close(plan.notify_fd);
      return;
    }
    close(plan.notify_fd);
  }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) dieErrno("installing seccomp");
}

}  // namespace

int main(int argc, char** argv) {
  const Plan plan = parse(argc, argv);
  const pid_t self = nodeVisiblePid();
  if (setpgid(0, 0) != 0) dieErrno("setpgid");
  // While still privileged: the cgroups are root's, and making namespaces needs CAP_SYS_ADMIN.
  for (const auto& procs : plan.cgroups) {
    const int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) dieErrno("joining the cgroup " + procs);
    close(fd);
  }
  for (const int ns : plan.join) {
    if (setns(ns, 0) != 0) dieErrno("entering the function's namespace");
    close(ns);
  }
  if (plan.unshare != 0 && unshare(plan.unshare) != 0) dieErrno("unshare");
  // --make-view: the namespaces just made (mount; network and PID when asked) go to the node as
  // descriptors, then the scratch space's; it passes them to every worker of the function. Made
  // once, they cost a worker's start nothing, and no worker's exit tears a namespace down.
  std::vector<int> made;
  // Through this process's folder of the host's /proc, kept open: the view replaces /proc, and
  // a new PID namespace has no entry to open until its first process exists.
  const int ns = open("/proc/self/ns", O_PATH | O_DIRECTORY | O_CLOEXEC);
  const auto keep = [&](const char* name) {
    made.push_back(openat(ns, name, O_RDONLY | O_CLOEXEC));
    if (made.back() < 0) dieErrno(std::string("opening the ") + name + " namespace");
  };
  for (const auto& [flag, name] : {std::pair{CLONE_NEWNS, "mnt"}, {CLONE_NEWNET, "net"}}) {
    if (plan.view_socket >= 0 && (plan.unshare & flag) != 0) keep(name);
  }
  const int scratch = (plan.unshare & CLONE_NEWNS) != 0 ? rootView(plan) : -1;
  if (plan.loopback) loopbackUp();
  if ((plan.unshare & CLONE_NEWPID) != 0) {
    startInit(plan);
    keep("pid_for_children");
  }
  if (ns >= 0) close(ns);
  if (scratch >= 0) made.push_back(scratch);
  if (plan.view_socket >= 0) {
    if (!sendDescriptors(plan.view_socket, "1", made)) dieErrno("sending the namespaces");
    std::_Exit(0);
  }
  for (const auto& [resource, value] : plan.rlimits) {
    const rlimit limit{value, value};
    if (setrlimit(resource, &limit) != 0) dieErrno("setrlimit");
  }
  if (!plan.cwd.empty() && chdir(plan.cwd.c_str()) != 0) dieErrno("chdir " + plan.cwd);
  if (plan.gid >= 0) {
    if (setgroups(0, nullptr) != 0) dieErrno("setgroups");
    if (setgid(static_cast<gid_t>(plan.gid)) != 0) dieErrno("setgid");
  }
  if (plan.uid >= 0 && setuid(static_cast<uid_t>(plan.uid)) != 0) dieErrno("setuid");
  landlock(plan);
  // Everything the node had open that was not meant for the worker.
  const int first_closed = std::max({plan.keep_fds, plan.seccomp_fd + 1, plan.notify_fd + 1});
  for (int fd = plan.keep_fds; fd < first_closed; ++fd) {
    if (fd != plan.seccomp_fd && fd != plan.notify_fd) close(fd);
  }
  close_range(static_cast<unsigned>(first_closed), ~0U, 0);
  if (plan.seccomp_fd >= 0) {
    seccomp(plan, self);
  } else if (plan.notify_fd >= 0) {
    close(plan.notify_fd);
  }
  execve(plan.argv[0], plan.argv, environ);
  dieErrno(std::string("cannot run ") + plan.argv[0]);
}
