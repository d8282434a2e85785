// How the process runtime runs a function's executable: the manifest's spec.process block, which
// this runtime declares and reads (processSchema()). Every worker gets a clean environment, its
// own working directory, these rlimits and the sandbox (seccomp, Landlock).
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sie/function.h"

namespace sie::process {

struct ProcessBinding {
  enum class Protocol { kNative, kLambda };
  Protocol protocol = Protocol::kNative;  // native framed protocol, or the AWS Lambda Runtime API
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // besides PATH, HOME, TMPDIR, LANG and the protocol's
  std::vector<std::string> read;           // extra read-only paths (the handler's folder always)
  bool network = false;                    // any network besides the runtime's own channel
  bool dapr = false;  // a Dapr-compatible state/publish API for the workers (DAPR_HTTP_PORT)
  std::vector<int> loopback_ports;  // set by the node: TCP ports on 127.0.0.1 workers may reach
  std::uint64_t memory_bytes = 256ULL << 20;  // address space (RLIMIT_AS); 0 = unlimited
  std::chrono::seconds cpu{0};                // CPU seconds over a worker's life; 0 = unlimited
  int open_files = 64;
  int processes = 1;  // 1: the worker may not fork (threads are fine)
  double cpus = 1;    // share of one CPU's time a worker may use (cgroups; 0: no limit)
  // Room in the workers' folders, all of the function's workers together (a tmpfs where the node
  // makes namespaces; 0: no limit but RLIMIT_FSIZE per file).
  std::uint64_t scratch_bytes = 64ULL << 20;
  std::chrono::milliseconds start_timeout{5000};  // spawn to ready

  bool operator==(const ProcessBinding&) const = default;
};

// The function's spec.process (every function of runtime process has one: the schema fills in
// the defaults when the manifest leaves it out), or null for another runtime.
inline const ProcessBinding* processBinding(const FunctionSpec& spec) {
  return std::any_cast<ProcessBinding>(&spec.settings);
}
inline ProcessBinding* processBinding(FunctionSpec& spec) {
  return std::any_cast<ProcessBinding>(&spec.settings);
}

// The spec.process block: its keys and how they become a ProcessBinding.
const RuntimeSchema& processSchema();

}  // namespace sie::process
