#include <fmt/format.h>

#include "exec/process/process_binding.h"

namespace sie::process {
namespace {

using Type = ConfigKey::Type;

constexpr ConfigKey kProcessKeys[] = {
    ConfigKey{"protocol", Type::kString, "native",
              "native (framed, the SDKs) | lambda (AWS Runtime API)"}
        .oneOf("native|lambda"),
    {"args", Type::kStringList, "", "arguments after the executable"},
    {"env", Type::kStringMap, "",
     "environment variables besides PATH, HOME, TMPDIR, LANG and the protocol's (variables that "
     "make a loader or language runtime run code, e.g. LD_PRELOAD, are refused)"},
    {"read", Type::kStringList, "", "extra read-only paths (relative to the manifest)"},
    {"network", Type::kBool, "false", "allow network access beyond the runtime's channel"},
    {"dapr", Type::kBool, "false", "serve the Dapr state/publish API to the workers"},
    ConfigKey{"memory", Type::kSize, "256Mi", "address-space limit, e.g. 128Mi, 1Gi (0: none)"}
        .within(16 << 20, std::numeric_limits<double>::infinity())
        .orZero(),
    {"cpu", Type::kDuration, "0", "CPU time over a worker's life (0: none)"},
    ConfigKey{"openFiles", Type::kInt, "64", "open file descriptors"}.within(16, 65536),
    ConfigKey{"processes", Type::kInt, "1",
              "processes a worker may run, itself included (1: no fork)"}
        .within(1, 4096),
    ConfigKey{"cpus", Type::kDouble, "1",
              "CPU time a worker may use, in CPUs (0.5: half of one; 0: no limit); enforced with "
              "cgroups"}
        .within(0.01, 1024)
        .orZero(),
    ConfigKey{"scratch", Type::kSize, "64Mi",
              "room in the workers' folders, all workers together, e.g. 16Mi, 1Gi (0: no limit); "
              "enforced where the node makes namespaces"}
        .within(1 << 20, 1099511627776.0)
        .orZero(),
    ConfigKey{"startTimeout", Type::kDuration, "5s", "spawn to ready"}.withinTime(
        std::chrono::milliseconds(1), std::chrono::minutes(10)),
};

// Why an environment variable would make a loader, libc or a language runtime run code or read
// files the function did not name; "" when it is an ordinary variable.
std::string_view injectionVariable(std::string_view name) {
  if (name.starts_with("LD_")) return "the dynamic loader reads LD_* variables";
  if (name.starts_with("BASH_FUNC_")) return "bash imports functions from it";
  if (name == "HOME" || name == "TMPDIR") return "the node sets it to the worker's own folder";
  constexpr std::string_view kLibc[] = {"GLIBC_TUNABLES", "GCONV_PATH",  "LOCPATH",
                                        "NLSPATH",        "HOSTALIASES", "RESOLV_HOST_CONF",
                                        "MALLOC_TRACE"};
  for (const std::string_view v : kLibc) {
    if (name == v) return "the C library reads it at start";
  }
  constexpr std::string_view kRuntimes[] = {"PYTHONSTARTUP", "PYTHONINSPECT",   "PYTHONBREAKPOINT",
                                            "NODE_OPTIONS",  "BASH_ENV",        "ENV",
                                            "SHELLOPTS",     "BASHOPTS",        "PS4",
                                            "PERL5OPT",      "RUBYOPT",         "JAVA_TOOL_OPTIONS",
                                            "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS"};
  for (const std::string_view v : kRuntimes) {
    if (name == v) return "a language runtime runs code or options from it";
  }
  return {};
}

Status applyProcess(const ConfigValues& v, FunctionSpec& spec) {
  ProcessBinding p;
  if (v.str("protocol") == "lambda") p.protocol = ProcessBinding::Protocol::kLambda;
  p.args = v.list("args");
  p.read = v.list("read");
  p.network = v.flag("network");
  p.dapr = v.flag("dapr");
  p.memory_bytes = v.bytes("memory");
  p.scratch_bytes = v.bytes("scratch");
  p.cpu = std::chrono::duration_cast<std::chrono::seconds>(v.duration("cpu"));
  p.open_files = static_cast<int>(v.integer("openFiles"));
  p.processes = static_cast<int>(v.integer("processes"));
  p.cpus = v.number("cpus");
  p.start_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(v.duration("startTimeout"));
  for (auto& [key, value] : v.map("env")) {
    if (key.empty() || key.find('=') != std::string::npos) {
      return v.invalid(
          fmt::format("spec.process.env.{}: a variable's name is not empty and has no '='", key));
    }
    if (const std::string_view why = injectionVariable(key); !why.empty()) {
      return v.invalid(fmt::format(
          "spec.process.env.{}: {}; the node refuses variables that load code into a process it "
          "starts",
          key, why));
    }
    p.env[key] = value;
  }
  spec.read_paths = p.read;
  spec.settings = std::move(p);
  return ok();
}

}  // namespace

const RuntimeSchema& processSchema() {
  static const RuntimeSchema kSchema{"process", kProcessKeys, true, applyProcess};
  return kSchema;
}

}  // namespace sie::process
