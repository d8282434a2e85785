// Functions: stateless handlers triggered by events. A runtime (executor) turns a FunctionSpec into
// instances; the node fetches declared input bindings from the state layer before an invocation
// and applies the returned outputs after it, so instances hold no state worth keeping.
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sie/config.h"
#include "sie/event.h"
#include "sie/result.h"
#include "sie/state.h"

namespace sie {

// An input binding: what the runtime fetches from the state layer before each invocation.
struct InputBinding {
  enum class Kind { kWindow, kKv };
  std::string name;  // the handler sees it under this name
  Kind kind = Kind::kWindow;
  // kWindow: sensor id; "" = the triggering sensor. Placeholders: {sensor}, {1}, {2}, ... (the
  // levels of the triggering sensor id) and its tags, e.g. "hvac/{2}/airflow".
  std::string sensor;
  std::size_t last = 0;            // kWindow: the newest N readings (before the triggering one)
  std::string key;                 // kKv: key template; "{sensor}" and "{function}" are expanded
  std::optional<double> fallback;  // kKv: value when the key is absent
};

// An output rule: what the runtime does with each decision (and with events a handler emits).
//   kDecision  publish the decision event on `topic`
//   kKv        write the decision's score to the KV key `key` (e.g. a health index per asset)
//   kEvent     publish a command event (io.sie.command, the decision as data) on `topic`, for an
//              actuator sink; also the topic of events a handler emits itself
struct OutputRule {
  enum class Kind { kDecision, kKv, kEvent };
  Kind kind = Kind::kDecision;
  std::string topic = "decisions/{function}/{sensor}";  // kDecision/kEvent: bus topic template
  bool only_anomalies = false;                          // only for decisions with anomaly == true
  std::string key;  // kKv: key template ({sensor}, {function}, {1}, {2}, ..., tags)
  std::chrono::milliseconds ttl{0};  // kKv: expiry of the written value (0: none)
};

inline constexpr std::string_view kCommandType = "io.sie.command";

// Micro-batching (spec.batch): a worker hands a function up to max_size queued events at once,
// waiting up to max_delay for a batch to fill (0: take what is queued, never wait).
struct BatchPolicy {
  int max_size = 1;
  std::chrono::microseconds max_delay{0};
};

// Hierarchical inference (spec.escalate): a decision whose score falls inside [low, high) is
// uncertain and is handed to another function (a bigger model) with a deadline; its decision
// replaces the local one, and when it does not answer in time the local decision stands.
struct EscalationPolicy {
  std::string to;  // the function's name
  double low = 0.0;
  double high = 0.0;
  std::chrono::milliseconds deadline{100};
};

struct ScalingPolicy {
  int min = 1;
  int max = 1;
  int target_concurrency = 1;
  std::chrono::milliseconds idle_timeout{60'000};
  bool prewarm = false;
};

// A parsed and validated `kind: Function` manifest.
struct FunctionSpec {
  std::string name;
  std::string version;
  std::string runtime;                // "builtin", "onnx", "process"
  std::string handler;                // runtime-specific: builtin name, model file, executable
  std::vector<std::string> triggers;  // topic patterns with MQTT wildcards + and #
  std::vector<InputBinding> inputs;
  std::vector<OutputRule> outputs;
  std::map<std::string, double> params;  // handler parameters (thresholds, bands, ...)
  std::chrono::milliseconds timeout{1000};
  int retries = 0;
  std::chrono::milliseconds retry_delay{10};  // before the first retry; doubles, at most 1 s
  // Effects (decision actions, KV writes, emitted events) applied at most once per event id,
  // however often the event is delivered or retried: the node records each applied event id in
  // the KV store (applied/<function>/<event id>, kept 24 h). Default on for the process runtime.
  bool idempotent = false;
  ScalingPolicy scaling;
  BatchPolicy batch;
  std::optional<EscalationPolicy> escalate;
  // What the runtime's own block (spec.model, spec.process, ...) said, as its RuntimeSchema read
  // it; the runtime reads it back (e.g. onnx::modelBinding). Empty when there is no such block.
  std::any settings;
  // Paths besides the handler the function reads (spec.process.read), as written in the manifest:
  // bundled, signed and checked at deploy like the handler.
  std::vector<std::string> read_paths;
  std::string source_file;  // where it was declared, for messages
  std::string base_dir;     // folder of the manifest file: relative handler paths start here

  [[nodiscard]] std::string id() const { return name + "@" + version; }
};

// What an instance sees for one invocation. References are valid only during invoke().
struct Invocation {
  const Event& event;
  const Telemetry& reading;
  const std::map<std::string, std::vector<Sample>, std::less<>>& windows;  // kWindow bindings
  const std::map<std::string, double, std::less<>>& values;                // kKv bindings
  const FunctionSpec& spec;
};

struct Decision {
  double score = 0.0;  // anomaly score, larger is more anomalous (handler-specific scale)
  bool anomaly = false;
  std::string label;   // "normal", "spike", "high", ...
  std::string detail;  // short human-readable reason
};

struct KvWrite {
  std::string key;  // template like InputBinding::key
  std::string value;
  std::chrono::milliseconds ttl{0};
};

struct Output {
  std::optional<Decision> decision;
  std::vector<KvWrite> kv_writes;
  std::vector<Event> events;
};

class FunctionInstance {
 public:
  virtual ~FunctionInstance() = default;
  // Must not keep anything from one call to the next that the node could not rebuild.
  virtual Result<Output> invoke(const Invocation& call) = 0;
  // Several invocations at once (micro-batching), results in order. Runtimes that gain from
  // batching (one model run for many events) override it.
  virtual std::vector<Result<Output>> invokeBatch(std::span<const Invocation> calls) {
    std::vector<Result<Output>> out;
    out.reserve(calls.size());
    for (const Invocation& call : calls) out.push_back(invoke(call));
    return out;
  }
  // false once the instance cannot serve again (its worker died or was killed after a timeout):
  // the pool then drops it instead of handing it out.
  [[nodiscard]] virtual bool healthy() const { return true; }
};

// A runtime's own block of a function manifest (spec.model for onnx, spec.process for process):
// its keys, checked like every other block, and how the checked values become the runtime's
// FunctionSpec::settings. A new runtime declares one; the manifest parser stays as it is.
struct RuntimeSchema {
  std::string_view block;  // the spec key the runtime owns, e.g. "model"
  std::span<const ConfigKey> keys;
  bool always = false;  // read, with its defaults, also when the manifest leaves the block out
  // The checked block into spec.settings (and spec.read_paths); may add inputs the settings need.
  Status (*apply)(const ConfigValues& block, FunctionSpec& spec) = nullptr;
};

// A runtime: validates specs and makes instances. Registered by name.
class Executor {
 public:
  virtual ~Executor() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  // The runtime's own manifest block, or null when it has none (builtin).
  [[nodiscard]] virtual const RuntimeSchema* schema() const { return nullptr; }
  // Deploy-time validation: unknown handler, missing parameters, ... fail here, never at the first
  // event.
  virtual Status validate(const FunctionSpec& spec) const = 0;
  virtual Result<std::unique_ptr<FunctionInstance>> instantiate(const FunctionSpec& spec) = 0;
  // What the function runs, for status and audit records (e.g. a model's path and SHA-256);
  // empty when there is nothing beyond the spec.
  [[nodiscard]] virtual std::map<std::string, std::string> artifact(const FunctionSpec&) const {
    return {};
  }
  // The function (this name@version, deployed with this spec) is gone from the node: what was
  // prepared for it once may go. Instances still running keep what they use.
  virtual void retire(const FunctionSpec& /*spec*/) {}
};

}  // namespace sie
