#include "config/function_manifest.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/config_table.h"
#include "core/file_text.h"
#include "core/topic_pattern.h"
#include "core/yaml_documents.h"

namespace sie::node {
namespace {

using Type = ConfigKey::Type;

constexpr ConfigKey kDocumentKeys[] = {
    {"apiVersion", Type::kString, "", "must be sie/v1", true},
    {"kind", Type::kString, "", "must be Function", true},
};
constexpr ConfigKey kMetadataKeys[] = {
    {"name", Type::kString, "", "function name: lowercase letters, digits and '-'", true},
    {"version", Type::kString, "1", "version label, e.g. 1 or 2.3.0"},
    {"description", Type::kString, "", "free text"},
};
constexpr ConfigKey kSpecKeys[] = {
    {"runtime", Type::kString, "", "builtin | onnx | process", true},
    {"handler", Type::kString, "",
     "what the runtime runs: a builtin name, or a model file or an executable (relative to the "
     "manifest)",
     true},
    {"timeout", Type::kDuration, "1s", "per-invocation deadline"},
    {"retries", Type::kInt, "0", "retries after a failed invocation (0-10)"},
    {"retryDelay", Type::kDuration, "10ms", "wait before the first retry; doubles up to 1s"},
    {"idempotent", Type::kString, "",
     "apply each event's effects once (true | false; default true for runtime process)"},
};
constexpr ConfigKey kInputKeys[] = {
    {"name", Type::kString, "", "name the handler sees", true},
    {"kind", Type::kString, "", "window | kv", true},
    {"sensor", Type::kString, "", "window: sensor id (default: the triggering sensor)"},
    {"last", Type::kInt, "", "window: newest N readings before the trigger"},
    {"key", Type::kString, "", "kv: key template; {sensor} and {function} are expanded"},
    {"default", Type::kDouble, "", "kv: value used when the key is absent"},
};
constexpr ConfigKey kOutputKeys[] = {
    {"kind", Type::kString, "", "decision | kv | event", true},
    {"topic", Type::kString, "", "bus topic template (default decisions/{function}/{sensor})"},
    {"key", Type::kString, "", "kv: key template the decision's score is written to"},
    {"ttl", Type::kDuration, "0", "kv: expiry of the written score (0: none)"},
    {"onlyAnomalies", Type::kBool, "false", "act only on anomalous decisions"},
};
constexpr ConfigKey kScalingKeys[] = {
    {"min", Type::kInt, "1", "instances kept warm (0 = scale to zero)"},
    {"max", Type::kInt, "1", "most instances"},
    {"targetConcurrency", Type::kInt, "1", "in-flight invocations per instance"},
    {"idleTimeout", Type::kDuration, "60s", "idle time before an instance is stopped"},
    {"prewarm", Type::kBool, "false", "start instances ahead of predicted demand"},
};
constexpr ConfigKey kModelKeys[] = {
    {"channels", Type::kStringList, "",
     "window inputs in the model's channel order (default: all)"},
    {"window", Type::kInt, "", "readings (block samples) per channel (default: sie.window)"},
    {"hop", Type::kDuration, "0", "decide at most once per hop of the trigger's time"},
    {"resample", Type::kDuration, "0",
     "one window point per period, ending at the trigger (0: the trigger's own readings)"},
    {"interpolate", Type::kString, "hold",
     "resampled points: hold (newest reading at or before) | linear (between the two around)"},
    {"mean", Type::kStringList, "", "per channel, with std: x' = (x - mean) / std"},
    {"std", Type::kStringList, "", "per channel standard deviation (> 0)"},
    {"min", Type::kStringList, "", "per channel, with max: x' = (x - min) / (max - min)"},
    {"max", Type::kStringList, "", "per channel maximum (> min)"},
    {"normalize", Type::kString, "",
     "fit: per-asset mean/std from the KV store (fit/<sensor>/mean|std)"},
    {"score", Type::kString, "", "probability | reconstruction | residual (default: sie.score)"},
    {"threshold", Type::kDouble, "", "anomaly when score >= threshold (default: sie.threshold)"},
    {"errorScale", Type::kDouble, "", "reconstruction/residual error that scores 0.5"},
    {"labels", Type::kStringList, "", "class names of a probabilities output, normal first"},
};
constexpr ConfigKey kBatchKeys[] = {
    {"maxSize", Type::kInt, "1", "most events per invocation batch (1-4096)"},
    {"maxDelay", Type::kDuration, "0", "longest wait for a batch to fill (0: never wait)"},
};
constexpr ConfigKey kEscalateKeys[] = {
    {"to", Type::kString, "", "the function that decides uncertain cases", true},
    {"band", Type::kStringList, "", "[low, high): scores in it are uncertain, e.g. [0.3, 0.7]",
     true},
    {"deadline", Type::kDuration, "100ms",
     "longest wait for its answer; then the local decision stands"},
};
constexpr ConfigKey kProcessKeys[] = {
    {"protocol", Type::kString, "native", "native (framed, the SDKs) | lambda (AWS Runtime API)"},
    {"args", Type::kStringList, "", "arguments after the executable"},
    {"read", Type::kStringList, "", "extra read-only paths (relative to the manifest)"},
    {"network", Type::kBool, "false", "allow network access beyond the runtime's channel"},
    {"dapr", Type::kBool, "false", "serve the Dapr state/publish API to the workers"},
    {"memory", Type::kString, "256Mi", "address-space limit, e.g. 128Mi, 1Gi (0: none)"},
    {"cpu", Type::kDuration, "0", "CPU time over a worker's life (0: none)"},
    {"openFiles", Type::kInt, "64", "open file descriptors (16-65536)"},
    {"processes", Type::kInt, "1", "processes a worker may run, itself included (1: no fork)"},
    {"cpus", Type::kDouble, "1",
     "CPU time a worker may use, in CPUs (0.5: half of one; 0: no limit); enforced with cgroups"},
    {"scratch", Type::kString, "64Mi",
     "room in the workers' folders, all workers together, e.g. 16Mi, 1Gi (0: no limit); "
     "enforced where the node makes namespaces"},
    {"startTimeout", Type::kDuration, "5s", "spawn to ready"},
};
constexpr std::string_view kProcessBlocks[] = {"env"};

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
constexpr std::string_view kSpecBlocks[] = {"triggers", "inputs",   "outputs", "params", "scaling",
                                            "batch",    "escalate", "model",   "process"};
constexpr std::string_view kDocumentBlocks[] = {"metadata", "spec"};

bool validName(const std::string& name) {
  static const std::regex kPattern("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$");
  return std::regex_match(name, kPattern);
}

Result<std::vector<std::string>> parseTriggers(const YAML::Node& node, const std::string& file) {
  const std::string where = yamlWhere(file, node);
  if (!node.IsSequence() || node.size() == 0) {
    return fail(
        Errc::kInvalidArgument,
        "spec.triggers must be a non-empty list of topic patterns, e.g. [\"grid/+/voltage\"]",
        where);
  }
  std::vector<std::string> out;
  for (const auto& item : node) {
    std::string topic;
    if (item.IsScalar()) {
      topic = item.as<std::string>();
    } else if (item.IsMap() && item["topic"] && item.size() == 1) {
      topic = item["topic"].as<std::string>();
    } else {
      return fail(Errc::kInvalidArgument,
                  "each trigger is a topic pattern string or {topic: PATTERN}",
                  yamlWhere(file, item));
    }
    auto pattern = TopicPattern::parse(topic);
    if (!pattern) {
      return fail(Errc::kInvalidArgument, "spec.triggers: " + pattern.error().message,
                  yamlWhere(file, item));
    }
    out.push_back(std::move(topic));
  }
  return out;
}

Result<InputBinding> parseInput(const YAML::Node& node, const std::string& file) {
  auto v = SIE_TRY(readConfig(node, kInputKeys, file));
  InputBinding in;
  in.name = v.str("name");
  const std::string kind = v.str("kind");
  if (kind == "window") {
    in.kind = InputBinding::Kind::kWindow;
    in.sensor = v.str("sensor");
    if (!v.has("last") || v.integer("last") < 1 || v.integer("last") > 100000) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("input '{}': window needs 'last' between 1 and 100000", in.name),
                  v.where());
    }
    in.last = static_cast<std::size_t>(v.integer("last"));
  } else if (kind == "kv") {
    in.kind = InputBinding::Kind::kKv;
    in.key = v.str("key");
    if (in.key.empty()) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("input '{}': kv needs 'key', e.g. limits/{{sensor}}/max", in.name),
                  v.where());
    }
    if (v.has("default")) in.fallback = v.number("default");
  } else {
    return fail(Errc::kInvalidArgument,
                fmt::format("input '{}': kind must be window or kv (got '{}')", in.name, kind),
                v.where());
  }
  return in;
}

Result<OutputRule> parseOutput(const YAML::Node& node, const std::string& file) {
  auto v = SIE_TRY(readConfig(node, kOutputKeys, file));
  OutputRule out;
  const std::string kind = v.str("kind");
  if (kind == "decision") {
    out.kind = OutputRule::Kind::kDecision;
  } else if (kind == "kv") {
    out.kind = OutputRule::Kind::kKv;
  } else if (kind == "event") {
    out.kind = OutputRule::Kind::kEvent;
  } else {
    return fail(Errc::kInvalidArgument,
                fmt::format("output kind must be decision, kv or event (got '{}')", kind),
                v.where());
  }
  out.topic = v.has("topic") ? v.str("topic") : "decisions/{function}/{sensor}";
  if (out.kind == OutputRule::Kind::kEvent && !v.has("topic")) {
    return v.invalid("an event output needs 'topic', e.g. commands/{sensor}/stop");
  }
  out.key = v.str("key");
  if (out.kind == OutputRule::Kind::kKv && out.key.empty()) {
    return v.invalid("a kv output needs 'key', e.g. health/{sensor}/score");
  }
  out.ttl = std::chrono::duration_cast<std::chrono::milliseconds>(v.duration("ttl"));
  out.only_anomalies = v.flag("onlyAnomalies");
  return out;
}

Result<ScalingPolicy> parseScaling(const YAML::Node& node, const std::string& file) {
  ScalingPolicy s;
  if (!node) return s;
  auto v = SIE_TRY(readConfig(node, kScalingKeys, file));
  s.min = static_cast<int>(v.integer("min"));
  s.max = static_cast<int>(v.integer("max"));
  s.target_concurrency = static_cast<int>(v.integer("targetConcurrency"));
  s.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(v.duration("idleTimeout"));
  s.prewarm = v.flag("prewarm");
  if (s.min < 0) {
    return fail(Errc::kInvalidArgument,
                fmt::format("spec.scaling.min must be >= 0 (got {})", s.min), v.where());
  }
  if (s.max < 1 || s.max < s.min) {
    return fail(
        Errc::kInvalidArgument,
        fmt::format("spec.scaling.max must be >= 1 and >= min (got max {} < min {})", s.max, s.min),
        v.where());
  }
  if (s.target_concurrency < 1) {
    return fail(Errc::kInvalidArgument, "spec.scaling.targetConcurrency must be >= 1", v.where());
  }
  return s;
}

Result<BatchPolicy> parseBatch(const YAML::Node& node, const std::string& file) {
  BatchPolicy b;
  if (!node) return b;
  auto v = SIE_TRY(readConfig(node, kBatchKeys, file));
  if (v.integer("maxSize") < 1 || v.integer("maxSize") > 4096) {
    return v.invalid(fmt::format("spec.batch.maxSize must be between 1 and 4096 (got {})",
                                 v.integer("maxSize")));
  }
  b.max_size = static_cast<int>(v.integer("maxSize"));
  b.max_delay = std::chrono::duration_cast<std::chrono::microseconds>(v.duration("maxDelay"));
  if (b.max_delay.count() < 0 || b.max_delay > std::chrono::seconds(1)) {
    return v.invalid("spec.batch.maxDelay must be between 0 and 1s, e.g. 500us");
  }
  return b;
}

Result<std::optional<EscalationPolicy>> parseEscalate(const YAML::Node& node,
                                                      const std::string& file) {
  if (!node) return std::nullopt;
  auto v = SIE_TRY(readConfig(node, kEscalateKeys, file));
  EscalationPolicy e;
  e.to = v.str("to");
  std::vector<double> band;
  for (const auto& item : v.list("band")) {
    double x = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), x);
    if (ec != std::errc() || end != item.data() + item.size()) {
      return v.invalid(fmt::format("spec.escalate.band must be two numbers (got '{}')", item));
    }
    band.push_back(x);
  }
  if (band.size() != 2 || !(band[0] < band[1])) {
    return v.invalid("spec.escalate.band must be [low, high] with low < high, e.g. [0.3, 0.7]");
  }
  e.low = band[0];
  e.high = band[1];
  e.deadline = std::chrono::duration_cast<std::chrono::milliseconds>(v.duration("deadline"));
  if (e.deadline.count() <= 0 || e.deadline > std::chrono::seconds(60)) {
    return v.invalid("spec.escalate.deadline must be between 1ms and 60s");
  }
  return e;
}

// "256Mi", "1Gi", "512M", "65536" -> bytes.
std::optional<std::uint64_t> parseBytes(std::string_view text) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  const std::string_view unit(end, text.data() + text.size() - end);
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {{"", 1},
                                                                          {"K", 1000},
                                                                          {"M", 1000'000},
                                                                          {"G", 1000'000'000},
                                                                          {"Ki", 1ULL << 10},
                                                                          {"Mi", 1ULL << 20},
                                                                          {"Gi", 1ULL << 30}};
  for (const auto& [name, scale] : kUnits) {
    if (unit == name) return n > UINT64_MAX / scale ? std::nullopt : std::optional(n * scale);
  }
  return std::nullopt;
}

Result<std::optional<ProcessBinding>> parseProcess(const YAML::Node& node,
                                                   const std::string& file) {
  if (!node) return std::nullopt;
  auto v = SIE_TRY(readConfig(node, kProcessKeys, file, kProcessBlocks));
  ProcessBinding p;
  const std::string protocol = v.str("protocol");
  if (protocol == "lambda") {
    p.protocol = ProcessBinding::Protocol::kLambda;
  } else if (protocol != "native") {
    return v.invalid(
        fmt::format("spec.process.protocol must be native or lambda (got '{}')", protocol));
  }
  p.args = v.list("args");
  p.read = v.list("read");
  p.network = v.flag("network");
  p.dapr = v.flag("dapr");
  const auto memory = parseBytes(v.str("memory"));
  if (!memory || (*memory != 0 && *memory < (16ULL << 20))) {
    return v.invalid(fmt::format(
        "spec.process.memory must be a size of at least 16Mi, e.g. 256Mi or 1Gi, or 0 (got '{}')",
        v.str("memory")));
  }
  p.memory_bytes = *memory;
  const auto scratch = parseBytes(v.str("scratch"));
  if (!scratch || (*scratch != 0 && (*scratch < (1ULL << 20) || *scratch > (1ULL << 40)))) {
    return v.invalid(fmt::format(
        "spec.process.scratch must be a size from 1Mi to 1Ti, e.g. 64Mi or 2Gi, or 0 (got '{}')",
        v.str("scratch")));
  }
  p.scratch_bytes = *scratch;
  p.cpu = std::chrono::duration_cast<std::chrono::seconds>(v.duration("cpu"));
  p.open_files = static_cast<int>(v.integer("openFiles"));
  if (p.open_files < 16 || p.open_files > 65536) {
    return v.invalid("spec.process.openFiles must be between 16 and 65536");
  }
  p.processes = static_cast<int>(v.integer("processes"));
  if (p.processes < 1 || p.processes > 4096) {
    return v.invalid("spec.process.processes must be between 1 and 4096");
  }
  p.cpus = v.number("cpus");
  if (!(p.cpus == 0 || (p.cpus >= 0.01 && p.cpus <= 1024))) {
    return v.invalid(
        fmt::format("spec.process.cpus must be 0 (no limit) or from 0.01 to 1024 "
                    "(got {})",
                    p.cpus));
  }
  p.start_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(v.duration("startTimeout"));
  if (p.start_timeout.count() <= 0) return v.invalid("spec.process.startTimeout must be > 0");
  if (const YAML::Node env = node["env"]) {
    if (!env.IsMap()) {
      return fail(Errc::kInvalidArgument, "spec.process.env must be a map of strings",
                  yamlWhere(file, env));
    }
    for (const auto& entry : env) {
      const auto key = entry.first.as<std::string>();
      if (key.empty() || key.find('=') != std::string::npos || !entry.second.IsScalar()) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("spec.process.env.{}: names are non-empty without '=', values "
                                "are strings",
                                key),
                    yamlWhere(file, entry.second));
      }
      if (const std::string_view why = injectionVariable(key); !why.empty()) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("spec.process.env.{}: {}; the node refuses variables that load "
                                "code into a process it starts",
                                key, why),
                    yamlWhere(file, entry.first));
      }
      p.env[key] = entry.second.as<std::string>();
    }
  }
  return p;
}

Result<std::map<std::string, double>> parseParams(const YAML::Node& node, const std::string& file) {
  std::map<std::string, double> params;
  if (!node) return params;
  if (!node.IsMap()) {
    return fail(Errc::kInvalidArgument, "spec.params must be a map of numbers",
                yamlWhere(file, node));
  }
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    double value = 0;
    if (!entry.second.IsScalar() || !YAML::convert<double>::decode(entry.second, value)) {
      return fail(Errc::kInvalidArgument, fmt::format("spec.params.{} must be a number", key),
                  yamlWhere(file, entry.second));
    }
    params.emplace(key, value);
  }
  return params;
}

Result<std::vector<double>> numberList(const ConfigValues& v, std::string_view key) {
  std::vector<double> out;
  for (const auto& item : v.list(key)) {
    double value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc() || end != item.data() + item.size() || !std::isfinite(value)) {
      return v.invalid(
          fmt::format("spec.model.{} must be a list of numbers (got '{}')", key, item));
    }
    out.push_back(value);
  }
  return out;
}

Result<std::optional<ModelBinding>> parseModel(const YAML::Node& node, const std::string& file) {
  if (!node) return std::nullopt;
  auto v = SIE_TRY(readConfig(node, kModelKeys, file));
  ModelBinding m;
  m.channels = v.list("channels");
  if (v.has("window")) {
    if (v.integer("window") < 1 || v.integer("window") > 100000) {
      return v.invalid(fmt::format("spec.model.window must be between 1 and 100000 (got {})",
                                   v.integer("window")));
    }
    m.window = static_cast<std::size_t>(v.integer("window"));
  }
  m.hop = v.duration("hop");
  if (m.hop.count() < 0) return v.invalid("spec.model.hop must be >= 0");
  m.resample = v.duration("resample");
  if (m.resample.count() < 0) return v.invalid("spec.model.resample must be >= 0");
  const std::string interpolate = v.str("interpolate");
  if (interpolate != "hold" && interpolate != "linear") {
    return v.invalid(
        fmt::format("spec.model.interpolate must be hold or linear (got '{}')", interpolate));
  }
  if (interpolate == "linear" && m.resample.count() == 0) {
    return v.invalid("spec.model.interpolate: linear needs spec.model.resample (a period)");
  }
  m.linear = interpolate == "linear";
  m.mean = SIE_TRY(numberList(v, "mean"));
  m.std = SIE_TRY(numberList(v, "std"));
  m.min = SIE_TRY(numberList(v, "min"));
  m.max = SIE_TRY(numberList(v, "max"));
  if (m.mean.size() != m.std.size()) {
    return v.invalid(
        fmt::format("spec.model.mean and std need one number per channel each (got "
                    "{} and {})",
                    m.mean.size(), m.std.size()));
  }
  if (m.min.size() != m.max.size()) {
    return v.invalid(
        fmt::format("spec.model.min and max need one number per channel each (got "
                    "{} and {})",
                    m.min.size(), m.max.size()));
  }
  if (!m.mean.empty() && !m.min.empty()) {
    return v.invalid("spec.model: give mean/std or min/max, not both");
  }
  if (v.has("normalize")) {
    if (v.str("normalize") != "fit") {
      return v.invalid(
          fmt::format("spec.model.normalize must be fit (got '{}')", v.str("normalize")));
    }
    m.fit = true;
  }
  m.score = v.str("score");
  if (!m.score.empty() && m.score != "probability" && m.score != "reconstruction" &&
      m.score != "residual") {
    return v.invalid(fmt::format(
        "spec.model.score must be probability, reconstruction or residual (got '{}')", m.score));
  }
  if (v.has("threshold")) m.threshold = v.number("threshold");
  if (v.has("errorScale")) {
    m.error_scale = v.number("errorScale");
    if (!(*m.error_scale > 0)) return v.invalid("spec.model.errorScale must be > 0");
  }
  m.labels = v.list("labels");
  return m;
}

// spec.model.normalize: fit reads each window's statistics through two kv inputs.
void addFitInputs(FunctionSpec& spec) {
  std::vector<InputBinding> added;
  for (const auto& in : spec.inputs) {
    if (in.kind != InputBinding::Kind::kWindow) continue;
    const std::string sensor = in.sensor.empty() ? "{sensor}" : in.sensor;
    for (const char* stat : {"mean", "std"}) {
      InputBinding kv;
      kv.name = in.name + "." + stat;
      kv.kind = InputBinding::Kind::kKv;
      kv.key = "fit/" + sensor + "/" + stat;
      added.push_back(std::move(kv));
    }
  }
  spec.inputs.insert(spec.inputs.end(), added.begin(), added.end());
}

template <typename T, typename Parse>
Result<std::vector<T>> parseList(const YAML::Node& node, const std::string& file,
                                 std::string_view field, Parse parse) {
  std::vector<T> out;
  if (!node) return out;
  if (!node.IsSequence()) {
    return fail(Errc::kInvalidArgument, fmt::format("{} must be a list", field),
                yamlWhere(file, node));
  }
  for (const auto& item : node) out.push_back(SIE_TRY(parse(item, file)));
  return out;
}

Result<FunctionSpec> parseDocument(const YAML::Node& doc, const std::string& file) {
  auto top = SIE_TRY(readConfig(doc, kDocumentKeys, file, kDocumentBlocks));
  if (top.str("apiVersion") != "sie/v1") {
    return fail(Errc::kInvalidArgument,
                fmt::format("apiVersion must be sie/v1 (got '{}')", top.str("apiVersion")),
                top.where());
  }
  if (top.str("kind") != "Function") {
    return fail(Errc::kInvalidArgument,
                fmt::format("kind must be Function (got '{}')", top.str("kind")), top.where());
  }
  if (!doc["metadata"] || !doc["spec"]) {
    return fail(Errc::kInvalidArgument, "a Function needs both metadata and spec", top.where());
  }
  auto meta = SIE_TRY(readConfig(doc["metadata"], kMetadataKeys, file));
  auto spec_values = SIE_TRY(readConfig(doc["spec"], kSpecKeys, file, kSpecBlocks));
  const YAML::Node spec_node = doc["spec"];

  FunctionSpec spec;
  spec.source_file = meta.where();
  spec.name = meta.str("name");
  spec.version = meta.str("version");
  if (!validName(spec.name)) {
    return fail(Errc::kInvalidArgument,
                fmt::format("metadata.name '{}' must be 1-63 lowercase letters, digits or '-', "
                            "starting and ending with a letter or digit",
                            spec.name),
                meta.where());
  }
  if (spec.version.empty() ||
      spec.version.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos) {
    return fail(Errc::kInvalidArgument,
                fmt::format("metadata.version '{}' may only use letters, digits, '.', '_' and '-'",
                            spec.version),
                meta.where());
  }
  spec.runtime = spec_values.str("runtime");
  spec.handler = spec_values.str("handler");
  spec.timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(spec_values.duration("timeout"));
  if (spec.timeout.count() <= 0) {
    return fail(Errc::kInvalidArgument, "spec.timeout must be > 0, e.g. 100ms",
                spec_values.where());
  }
  spec.retries = static_cast<int>(spec_values.integer("retries"));
  if (spec.retries < 0 || spec.retries > 10) {
    return fail(Errc::kInvalidArgument,
                fmt::format("spec.retries must be between 0 and 10 (got {})", spec.retries),
                spec_values.where());
  }
  spec.retry_delay =
      std::chrono::duration_cast<std::chrono::milliseconds>(spec_values.duration("retryDelay"));
  if (spec.retry_delay.count() < 0 || spec.retry_delay > std::chrono::seconds(10)) {
    return fail(Errc::kInvalidArgument, "spec.retryDelay must be between 0 and 10s",
                spec_values.where());
  }
  const std::string idempotent = spec_values.str("idempotent");
  if (idempotent.empty()) {
    spec.idempotent = spec.runtime == "process";
  } else if (idempotent == "true" || idempotent == "false") {
    spec.idempotent = idempotent == "true";
  } else {
    return fail(Errc::kInvalidArgument,
                fmt::format("spec.idempotent must be true or false (got '{}')", idempotent),
                spec_values.where());
  }
  if (!spec_node["triggers"]) {
    return fail(Errc::kInvalidArgument,
                "spec.triggers is missing: list the topic patterns that invoke the function",
                spec_values.where());
  }
  spec.triggers = SIE_TRY(parseTriggers(spec_node["triggers"], file));
  spec.inputs =
      SIE_TRY(parseList<InputBinding>(spec_node["inputs"], file, "spec.inputs", parseInput));
  spec.outputs =
      SIE_TRY(parseList<OutputRule>(spec_node["outputs"], file, "spec.outputs", parseOutput));
  if (spec.outputs.empty()) spec.outputs.push_back(OutputRule{});
  for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (spec.inputs[i].name == spec.inputs[j].name) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("spec.inputs: name '{}' is used twice", spec.inputs[i].name),
                    spec_values.where());
      }
    }
  }
  spec.params = SIE_TRY(parseParams(spec_node["params"], file));
  spec.scaling = SIE_TRY(parseScaling(spec_node["scaling"], file));
  spec.batch = SIE_TRY(parseBatch(spec_node["batch"], file));
  spec.escalate = SIE_TRY(parseEscalate(spec_node["escalate"], file));
  if (spec.escalate && spec.escalate->to == spec.name) {
    return fail(Errc::kInvalidArgument, "spec.escalate.to names the function itself",
                spec_values.where());
  }
  spec.model = SIE_TRY(parseModel(spec_node["model"], file));
  spec.process = SIE_TRY(parseProcess(spec_node["process"], file));
  if (spec.process && spec.runtime != "process") {
    return fail(Errc::kInvalidArgument, "spec.process is for runtime: process",
                spec_values.where());
  }
  if (spec.runtime == "process" && !spec.process) spec.process = ProcessBinding{};
  if (spec.model && spec.model->fit) addFitInputs(spec);
  spec.base_dir = std::filesystem::path(file).parent_path().string();
  return spec;
}

}  // namespace

Result<std::vector<FunctionSpec>> parseManifests(const SourceText& file) {
  std::vector<FunctionSpec> specs;
  try {
    for (const YamlDocument& document : splitYamlDocuments(file.text)) {
      // Padded with newlines so that YAML marks keep the file's line numbers.
      const std::string text = std::string(document.first_line - 1, '\n') + document.text;
      const YAML::Node doc = YAML::Load(text);
      if (doc.IsNull()) {
        if (!hasYamlContent(text)) continue;  // empty document, e.g. a trailing '---'
        return fail(Errc::kParse,
                    "invalid YAML: not a document (a manifest starts with 'apiVersion: sie/v1')",
                    file.path);
      }
      specs.push_back(SIE_TRY(parseDocument(doc, file.path)));
    }
  } catch (const YAML::Exception& e) {
    const std::string where =
        e.mark.is_null() ? file.path : fmt::format("{}:{}", file.path, e.mark.line + 1);
    return fail(Errc::kParse, "invalid YAML: " + e.msg, where);
  }
  return specs;
}

Result<std::vector<FunctionSpec>> parseManifestSet(const std::vector<SourceText>& files) {
  std::vector<FunctionSpec> all;
  std::map<std::string, std::string> declared;  // id -> where
  for (const auto& file : files) {
    for (auto& spec : SIE_TRY(parseManifests(file))) {
      auto [it, inserted] = declared.emplace(spec.id(), spec.source_file);
      if (!inserted) {
        return fail(
            Errc::kAlreadyExists,
            fmt::format("function {} is declared twice (first at {})", spec.id(), it->second),
            spec.source_file);
      }
      all.push_back(std::move(spec));
    }
  }
  return all;
}

Result<std::vector<SourceText>> readYamlDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return fail(Errc::kNotFound, "functions folder does not exist or is not a folder", dir);
  }
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) paths.push_back(entry.path());
  }
  if (ec) return fail(Errc::kIo, "cannot list folder: " + ec.message(), dir);
  std::sort(paths.begin(), paths.end());
  std::vector<SourceText> files;
  for (const auto& path : paths) {
    std::string text = SIE_TRY(readFileText(path.string()));
    files.push_back({path.string(), std::move(text)});
  }
  return files;
}

std::vector<ConfigSection> manifestSections() {
  return {{"(document)", kDocumentKeys},
          {"metadata", kMetadataKeys},
          {"spec", kSpecKeys},
          {"spec.inputs[]", kInputKeys},
          {"spec.outputs[]", kOutputKeys},
          {"spec.scaling", kScalingKeys},
          {"spec.escalate", kEscalateKeys},
          {"spec.model (runtime: onnx)", kModelKeys},
          {"spec.model.batch", kBatchKeys},
          {"spec.process (runtime: process)", kProcessKeys}};
}

}  // namespace sie::node
