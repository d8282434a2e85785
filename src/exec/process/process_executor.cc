#include "exec/process/process_executor.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "core/log.h"
#include "core/sha256.h"
#include "exec/process/lambda_instance.h"
#include "exec/process/native_instance.h"
#include "exec/process/process_binding.h"
#include "exec/process/sandbox_layers.h"
#include "exec/process/worker.h"

namespace sie::process {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSystemPaths[] = {"/usr",      "/lib",      "/lib64",       "/bin",
                                        "/sbin",     "/etc",      "/dev/urandom", "/dev/random",
                                        "/dev/zero", "/proc/self"};
constexpr std::uint64_t kMaxFileBytes = 1ULL << 30;

// The folder a function's workers' folders are made in: its id, safe as one path component.
std::string folderName(const std::string& id) {
  std::string name = id;
  for (char& c : name) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '@' || (c == '.' && &c != name.data());
    if (!safe) c = '_';
  }
  return name;
}

// sie-launch: $SIE_LAUNCHER, beside the running binary, or where the build put it.
std::string launcherPath() {
  if (const char* env = std::getenv("SIE_LAUNCHER"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const fs::path beside = fs::read_symlink("/proc/self/exe", ec).parent_path() / "sie-launch";
  if (!ec && access(beside.c_str(), X_OK) == 0) return beside.string();
  return SIE_LAUNCHER_BUILD_PATH;
}

fs::path resolve(const FunctionSpec& spec, const std::string& path) {
  const fs::path p(path);
  return p.is_absolute() ? p : fs::path(spec.base_dir) / p;
}

// NAME=value in `env`, in place of an entry of the same name: the manifest's env wins over the
// defaults (a Lambda function sets _HANDLER to its module.function).
void setEnv(std::vector<std::string>& env, const std::string& name, const std::string& value) {
  const std::string entry = name + "=" + value;
  const auto same = std::find_if(env.begin(), env.end(), [&](const std::string& e) {
    return e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=';
  });
  if (same != env.end()) {
    *same = entry;
  } else {
    env.push_back(entry);
  }
}

class ProcessExecutor final : public Executor {
 public:
  [[nodiscard]] std::string_view name() const override { return "process"; }
  [[nodiscard]] const RuntimeSchema* schema() const override { return &processSchema(); }

  Status validate(const FunctionSpec& spec) const override {
    const ProcessBinding* binding = processBinding(spec);
    if (binding == nullptr) {
      return fail(Errc::kInvalidArgument, "runtime process needs spec.process", spec.source_file);
    }
    const fs::path exe = resolve(spec, spec.handler);
    struct stat st {};
    if (stat(exe.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return fail(Errc::kNotFound,
                  fmt::format("handler '{}' is not a file (looked for {}; relative paths start at "
                              "the manifest's folder)",
                              spec.handler, exe.string()),
                  spec.source_file);
    }
    if (access(exe.c_str(), X_OK) != 0) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("handler {} is not executable (chmod +x it)", exe.string()),
                  spec.source_file);
    }
    for (const auto& path : binding->read) {
      if (!fs::exists(resolve(spec, path))) {
        return fail(
            Errc::kNotFound,
            fmt::format("spec.process.read: {} does not exist", resolve(spec, path).string()),
            spec.source_file);
      }
    }
    const std::string launcher = launcherPath();
    if (access(launcher.c_str(), X_OK) != 0) {
      return fail(Errc::kNotFound,
                  fmt::format("the worker launcher {} is missing (install sie-launch beside sie "
                              "or set SIE_LAUNCHER)",
                              launcher));
    }
    return ok();
  }

  Result<std::unique_ptr<FunctionInstance>> instantiate(const FunctionSpec& spec) override {
    const std::shared_ptr<const Prepared> prepared = SIE_TRY(prepare(spec));
    const int instance = ++instances_;
    if (prepared->binding.protocol == ProcessBinding::Protocol::kLambda) {
      return startLambda(prepared->plan, spec, instance);
    }
    return startNative(prepared->plan, spec, instance);
  }

  // Drops the function's plan: its seccomp program, and its view, once no worker of it is left
  // (each holds the view: its namespaces, scratch space and relays).
  void retire(const FunctionSpec& spec) override {
    if (processBinding(spec) == nullptr) return;
    const std::string key = planKey(spec);
    std::shared_ptr<Slot> slot;
    {
      std::lock_guard lock(mu_);
      auto it = slots_.find(key);
      if (it == slots_.end()) return;
      slot = it->second;
    }
    std::lock_guard lock(slot->mu);
    // A redeploy of the same name and version with other settings has a plan of its own.
    if (!slot->prepared || slot->prepared->binding != *processBinding(spec)) return;
    slot->prepared.reset();
    std::lock_guard map_lock(mu_);
    if (auto it = slots_.find(key); it != slots_.end() && it->second == slot) slots_.erase(it);
  }

  [[nodiscard]] std::map<std::string, std::string> artifact(
      const FunctionSpec& spec) const override {
    auto prepared = prepare(spec);
    if (!prepared) return {};
    return {{"executable", (*prepared)->plan.executable}, {"sha256", (*prepared)->sha256}};
  }

 private:
  struct Prepared {
    WorkerPlan plan;
    std::string sha256;
    ProcessBinding binding;  // what the plan was made from
  };

  // One function's plan, made by one caller at a time: making a view takes a process start and
  // namespaces, which must not hold up other functions' first instances.
  struct Slot {
    std::mutex mu;
    std::shared_ptr<const Prepared> prepared;
  };

  // A function's plan (its seccomp program compiled once), reused by every instance.
  static std::string planKey(const FunctionSpec& spec) {
    return spec.id() + "\n" + spec.base_dir + "\n" + spec.handler;
  }

  std::shared_ptr<Slot> slotOf(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto& slot = slots_[key];
    if (!slot) slot = std::make_shared<Slot>();
    return slot;
  }

  Result<std::shared_ptr<const Prepared>> prepare(const FunctionSpec& spec) const {
    const std::shared_ptr<Slot> slot = slotOf(planKey(spec));
    std::lock_guard lock(slot->mu);
    const ProcessBinding* binding = processBinding(spec);
    // The same name and version redeployed with other process settings gets a new plan.
    if (slot->prepared && binding != nullptr && slot->prepared->binding == *binding) {
      return slot->prepared;
    }
    SIE_CHECK(validate(spec));
    const ProcessBinding& p = *binding;
    auto prepared = std::make_shared<Prepared>();
    prepared->binding = p;
    WorkerPlan& plan = prepared->plan;
    plan.name = spec.id();
    plan.launcher = launcherPath();
    plan.executable = fs::absolute(resolve(spec, spec.handler)).lexically_normal().string();
    prepared->sha256 = SIE_TRY(sha256File(plan.executable));
    plan.args = p.args;
    plan.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "SIE_FUNCTION=" + spec.name,
                "SIE_FUNCTION_VERSION=" + spec.version,
                "_HANDLER=" + fs::path(spec.handler).filename().string()};
    for (const auto& [name, value] : p.env) setEnv(plan.env, name, value);
    plan.read_only.assign(std::begin(kSystemPaths), std::end(kSystemPaths));
    plan.read_only.push_back(fs::path(plan.executable).parent_path().string());
    for (const auto& path : p.read) {
      plan.read_only.push_back(fs::absolute(resolve(spec, path)).lexically_normal().string());
    }
    if (p.memory_bytes > 0) plan.rlimits.emplace_back("as", p.memory_bytes);
    if (p.cpu.count() > 0) plan.rlimits.emplace_back("cpu", p.cpu.count());
    plan.rlimits.emplace_back("nofile", p.open_files);
    // RLIMIT_NPROC counts a user's processes: exact for workers with their own uid (root node);
    // otherwise it would count the node user's and is not set.
    if (p.processes > 1 && geteuid() == 0) plan.rlimits.emplace_back("nproc", p.processes);
    if (p.processes > 1 && geteuid() != 0) {
      Log("fn", spec.id())
          .warn(
              "spec.process.processes is not enforced: the node does not run as root, so "
              "workers share its user");
    }
    plan.rlimits.emplace_back("fsize", kMaxFileBytes);
    plan.rlimits.emplace_back("core", 0);
    if (geteuid() == 0) plan.uids = &UidPool::workers();  // never run a function as root
    plan.unshare = workerNamespaces(sandboxLayers());
    plan.cgroups = WorkerCgroups::shared();
    // pids.max counts threads like RLIMIT_NPROC does: set as it is, only where forking is
    // allowed (with processes: 1 seccomp forbids fork and threads are free).
    plan.cgroup_limits = {
        .memory_bytes = p.memory_bytes, .pids = p.processes > 1 ? p.processes : 0, .cpus = p.cpus};
    plan.network = p.network;
    plan.loopback_ports = p.loopback_ports;
    const char* tmp = std::getenv("TMPDIR");
    plan.work_root = (fs::path(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") / "sie-workers" /
                      folderName(spec.id()))
                         .string();
    if (const std::string shared = functionNamespaces(sandboxLayers(), p); !shared.empty()) {
      const bool own_network = shared.find("net") != std::string::npos;
      plan.view = SIE_TRY(
          FunctionView::make({.launcher = plan.launcher,
                              .kinds = shared,
                              .read_only = plan.read_only,
                              .writable = {"/dev/null"},
                              .workers_folder = plan.work_root,
                              .loopback = own_network && servesLoopbackApi(p),
                              .relayed_ports = own_network ? p.loopback_ports : std::vector<int>{},
                              .scratch_bytes = p.scratch_bytes}));
    }
    plan.seccomp = std::make_shared<const SeccompProgram>(SIE_TRY(SeccompProgram::build(p)));
    plan.seccomp_watch = SeccompWatch::shared();
    slot->prepared = prepared;
    return std::shared_ptr<const Prepared>(prepared);
  }

  // Lock order: a slot's, then mu_ (retire); prepare holds mu_ only to find its slot.
  mutable std::mutex mu_;  // the map below: filled by const artifact() as well
  mutable std::map<std::string, std::shared_ptr<Slot>> slots_;
  std::atomic<int> instances_{0};
};

}  // namespace

std::shared_ptr<Executor> makeExecutor() { return std::make_shared<ProcessExecutor>(); }

}  // namespace sie::process
