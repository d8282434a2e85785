// What the sandbox layers a worker may get cost at its start, beside what BM_ColdStart measures
// whole: unshare() as sie-launch calls it, timed inside a fresh child per iteration (a namespace
// is made once per process), a launcher's spawn into a function's PID namespace, and a worker's
// cgroups made and removed as the node does. Needs
// root (with CAP_SYS_ADMIN, and a cgroup hierarchy it may write); reports p50 / p99 as counters.
//   bench_sandbox_layers
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "exec/process/worker_cgroups.h"

namespace {

void reportPercentiles(benchmark::State& state, std::vector<double>& samples) {
  std::sort(samples.begin(), samples.end());
  state.counters["p50_ms"] = samples[samples.size() / 2];
  state.counters["p99_ms"] = samples[samples.size() * 99 / 100];
}

// The child's own timing of unshare(flags), in ms; negative when it failed.
double timedUnshare(int flags) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return -1;
  const pid_t child = fork();
  if (child == 0) {
    const auto start = std::chrono::steady_clock::now();
    const int rc = unshare(flags);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const double out = rc == 0 ? ms : -1;
    (void)!write(pipe_fds[1], &out, sizeof out);
    _exit(0);
  }
  double ms = -1;
  if (read(pipe_fds[0], &ms, sizeof ms) != sizeof ms) ms = -1;
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  waitpid(child, nullptr, 0);
  return ms;
}

void unshareCost(benchmark::State& state) {
  const int flags = static_cast<int>(state.range(0));
  std::vector<double> samples;
  for (auto _ : state) {
    const double ms = timedUnshare(flags);
    if (ms < 0) {
      state.SkipWithError("unshare failed: run as root with CAP_SYS_ADMIN");
      return;
    }
    samples.push_back(ms);
  }
  reportPercentiles(state, samples);
}

BENCHMARK(unshareCost)
    ->Name("BM_Unshare/ipc+uts")
    ->Arg(CLONE_NEWIPC | CLONE_NEWUTS)
    ->Iterations(300)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(unshareCost)
    ->Name("BM_Unshare/net")
    ->Arg(CLONE_NEWNET)
    ->Iterations(300)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(unshareCost)
    ->Name("BM_Unshare/ipc+uts+net")
    ->Arg(CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET)
    ->Iterations(300)
    ->Unit(benchmark::kMillisecond);

// A PID namespace with a first process that waits to be killed, as a function's view has.
struct PidNamespace {
  pid_t holder = -1;  // unshares, then forks the first process
  pid_t first = -1;
  int fd = -1;
  PidNamespace() {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return;
    holder = fork();
    if (holder == 0) {
      if (unshare(CLONE_NEWPID) != 0) _exit(1);
      const pid_t init = fork();
      if (init == 0) {
        pause();
        _exit(0);
      }
      (void)!write(pipe_fds[1], &init, sizeof init);
      waitpid(init, nullptr, 0);
      _exit(0);
    }
    if (read(pipe_fds[0], &first, sizeof first) == sizeof first) {
      fd = open(("/proc/" + std::to_string(first) + "/ns/pid").c_str(), O_RDONLY | O_CLOEXEC);
    }
    close(pipe_fds[0]);
    close(pipe_fds[1]);
  }
  ~PidNamespace() {
    if (fd >= 0) close(fd);
    if (first > 0) kill(first, SIGKILL);
    if (holder > 0) waitpid(holder, nullptr, 0);
  }
};

// posix_spawn of /bin/true and its reaping, as the node starts a worker's launcher: from the
// calling thread (0), from a new thread (1), or from a new thread that first enters a function's
// PID namespace for its children (2), as the node does with a PID namespace per function.
void spawnCost(benchmark::State& state) {
  const int how = static_cast<int>(state.range(0));
  PidNamespace ns;
  if (how == 2 && ns.fd < 0) {
    state.SkipWithError("no PID namespace: run as root with CAP_SYS_ADMIN");
    return;
  }
  std::vector<double> samples;
  char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
  char* env[] = {nullptr};
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = -1;
    auto spawn = [&] { posix_spawn(&pid, argv[0], nullptr, nullptr, argv, env); };
    if (how == 0) {
      spawn();
    } else {
      std::thread([&] {
        if (how == 2 && setns(ns.fd, CLONE_NEWPID) != 0) return;
        spawn();
      }).join();
    }
    if (pid <= 0) {
      state.SkipWithError("posix_spawn failed");
      return;
    }
    waitpid(pid, nullptr, 0);
    samples.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  reportPercentiles(state, samples);
}

BENCHMARK(spawnCost)->Name("BM_Spawn/here")->Arg(0)->Iterations(600)->Unit(benchmark::kMillisecond);
BENCHMARK(spawnCost)
    ->Name("BM_Spawn/thread")
    ->Arg(1)
    ->Iterations(600)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(spawnCost)
    ->Name("BM_Spawn/thread+pid-namespace")
    ->Arg(2)
    ->Iterations(600)
    ->Unit(benchmark::kMillisecond);

void cgroupCost(benchmark::State& state) {
  const auto& layer = sie::process::WorkerCgroups::shared();
  if (!layer) {
    state.SkipWithError("no cgroups here: run as root");
    return;
  }
  std::vector<double> samples;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    {
      auto cgroup = layer->create("bench@1#1", {.memory_bytes = 256 << 20, .pids = 16, .cpus = 1});
      if (!cgroup) {
        state.SkipWithError(cgroup.error().str().c_str());
        return;
      }
    }
    samples.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  reportPercentiles(state, samples);
}

BENCHMARK(cgroupCost)
    ->Name("BM_WorkerCgroup/create+remove")
    ->Iterations(300)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
