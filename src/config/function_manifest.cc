#include "config/function_manifest.h"

#include <algorithm>
#include <filesystem>
#include <iterator>
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
    ConfigKey{"timeout", Type::kDuration, "1s", "per-invocation deadline"}.withinTime(
        std::chrono::milliseconds(1)),
    ConfigKey{"retries", Type::kInt, "0", "retries after a failed invocation"}.within(0, 10),
    ConfigKey{"retryDelay", Type::kDuration, "10ms",
              "wait before the first retry; doubles up to 1s"}
        .withinTime(std::chrono::nanoseconds(0), std::chrono::seconds(10)),
    ConfigKey{"idempotent", Type::kString, "",
              "apply each event's effects once (default true for runtime process)"}
        .oneOf("true|false"),
};
constexpr ConfigKey kInputKeys[] = {
    {"name", Type::kString, "", "name the handler sees", true},
    ConfigKey{"kind", Type::kString, "", "what the handler gets", true}.oneOf("window|kv"),
    {"sensor", Type::kString, "", "window: sensor id (default: the triggering sensor)"},
    ConfigKey{"last", Type::kInt, "", "window: newest N readings before the trigger"}.within(
        1, 100000),
    {"key", Type::kString, "", "kv: key template; {sensor} and {function} are expanded"},
    {"default", Type::kDouble, "", "kv: value used when the key is absent"},
};
constexpr ConfigKey kOutputKeys[] = {
    ConfigKey{"kind", Type::kString, "", "what is done with each decision", true}.oneOf(
        "decision|kv|event"),
    {"topic", Type::kString, "", "bus topic template (default decisions/{function}/{sensor})"},
    {"key", Type::kString, "", "kv: key template the decision's score is written to"},
    {"ttl", Type::kDuration, "0", "kv: expiry of the written score (0: none)"},
    {"onlyAnomalies", Type::kBool, "false", "act only on anomalous decisions"},
};
constexpr ConfigKey kScalingKeys[] = {
    ConfigKey{"min", Type::kInt, "1", "instances kept warm (0 = scale to zero)"}.within(0, 10000),
    ConfigKey{"max", Type::kInt, "1", "most instances (at least min)"}.within(1, 10000),
    ConfigKey{"targetConcurrency", Type::kInt, "1", "in-flight invocations per instance"}.within(
        1, 10000),
    {"idleTimeout", Type::kDuration, "60s", "idle time before an instance is stopped"},
    {"prewarm", Type::kBool, "false", "start instances ahead of predicted demand"},
};
constexpr ConfigKey kBatchKeys[] = {
    ConfigKey{"maxSize", Type::kInt, "1", "most events per invocation batch"}.within(1, 4096),
    ConfigKey{"maxDelay", Type::kDuration, "0", "longest wait for a batch to fill (0: never wait)"}
        .withinTime(std::chrono::nanoseconds(0), std::chrono::seconds(1)),
};
constexpr ConfigKey kEscalateKeys[] = {
    {"to", Type::kString, "", "the function that decides uncertain cases", true},
    {"band", Type::kNumberList, "", "[low, high): scores in it are uncertain, e.g. [0.3, 0.7]",
     true},
    ConfigKey{"deadline", Type::kDuration, "100ms",
              "longest wait for its answer; then the local decision stands"}
        .withinTime(std::chrono::milliseconds(1), std::chrono::seconds(60)),
};
constexpr std::string_view kSpecBlocks[] = {"triggers", "inputs", "outputs", "params",
                                            "scaling",  "batch",  "escalate"};
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
  auto v = SIE_TRY(readConfig(node, kInputKeys, file, {}, "spec.inputs[]"));
  InputBinding in;
  in.name = v.str("name");
  if (v.str("kind") == "window") {
    in.kind = InputBinding::Kind::kWindow;
    in.sensor = v.str("sensor");
    if (!v.has("last")) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("input '{}': window needs 'last' (1 to 100000)", in.name), v.where());
    }
    in.last = static_cast<std::size_t>(v.integer("last"));
  } else {
    in.kind = InputBinding::Kind::kKv;
    in.key = v.str("key");
    if (in.key.empty()) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("input '{}': kv needs 'key', e.g. limits/{{sensor}}/max", in.name),
                  v.where());
    }
    if (v.has("default")) in.fallback = v.number("default");
  }
  return in;
}

Result<OutputRule> parseOutput(const YAML::Node& node, const std::string& file) {
  auto v = SIE_TRY(readConfig(node, kOutputKeys, file, {}, "spec.outputs[]"));
  OutputRule out;
  const std::string kind = v.str("kind");
  if (kind == "decision") {
    out.kind = OutputRule::Kind::kDecision;
  } else if (kind == "kv") {
    out.kind = OutputRule::Kind::kKv;
  } else {
    out.kind = OutputRule::Kind::kEvent;
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
  auto v = SIE_TRY(readConfig(node, kScalingKeys, file, {}, "spec.scaling"));
  s.min = static_cast<int>(v.integer("min"));
  s.max = static_cast<int>(v.integer("max"));
  s.target_concurrency = static_cast<int>(v.integer("targetConcurrency"));
  s.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(v.duration("idleTimeout"));
  s.prewarm = v.flag("prewarm");
  if (s.max < s.min) {
    return v.invalid(
        fmt::format("spec.scaling.max must be at least min (got max {} < min {})", s.max, s.min));
  }
  return s;
}

Result<BatchPolicy> parseBatch(const YAML::Node& node, const std::string& file) {
  BatchPolicy b;
  if (!node) return b;
  auto v = SIE_TRY(readConfig(node, kBatchKeys, file, {}, "spec.batch"));
  b.max_size = static_cast<int>(v.integer("maxSize"));
  b.max_delay = std::chrono::duration_cast<std::chrono::microseconds>(v.duration("maxDelay"));
  return b;
}

Result<std::optional<EscalationPolicy>> parseEscalate(const YAML::Node& node,
                                                      const std::string& file) {
  if (!node) return std::nullopt;
  auto v = SIE_TRY(readConfig(node, kEscalateKeys, file, {}, "spec.escalate"));
  EscalationPolicy e;
  e.to = v.str("to");
  const std::vector<double> band = v.numbers("band");
  if (band.size() != 2 || !(band[0] < band[1])) {
    return v.invalid("spec.escalate.band must be [low, high] with low < high, e.g. [0.3, 0.7]");
  }
  e.low = band[0];
  e.high = band[1];
  e.deadline = std::chrono::duration_cast<std::chrono::milliseconds>(v.duration("deadline"));
  return e;
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

Result<FunctionSpec> parseDocument(const YAML::Node& doc, const std::string& file,
                                   const RuntimeSchemas& runtimes) {
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
  auto meta = SIE_TRY(readConfig(doc["metadata"], kMetadataKeys, file, {}, "metadata"));
  std::vector<std::string_view> blocks(std::begin(kSpecBlocks), std::end(kSpecBlocks));
  for (const auto& [runtime, schema] : runtimes) blocks.push_back(schema.block);
  auto spec_values = SIE_TRY(readConfig(doc["spec"], kSpecKeys, file, blocks, "spec"));
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
  spec.retries = static_cast<int>(spec_values.integer("retries"));
  spec.retry_delay =
      std::chrono::duration_cast<std::chrono::milliseconds>(spec_values.duration("retryDelay"));
  const std::string idempotent = spec_values.str("idempotent");
  spec.idempotent = idempotent.empty() ? spec.runtime == "process" : idempotent == "true";
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
  for (const auto& [runtime, schema] : runtimes) {
    const YAML::Node block = spec_node[std::string(schema.block)];
    if (runtime != spec.runtime) {
      if (block) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("spec.{} is for runtime: {}", schema.block, runtime),
                    yamlWhere(file, block));
      }
      continue;
    }
    if (!block && !schema.always) continue;
    const auto values =
        SIE_TRY(readConfig(block ? block : YAML::Node(YAML::NodeType::Map), schema.keys, file, {},
                           fmt::format("spec.{}", schema.block)));
    SIE_CHECK(schema.apply(values, spec));
  }
  spec.base_dir = std::filesystem::path(file).parent_path().string();
  return spec;
}

}  // namespace

RuntimeSchemas schemasOf(const Registry<std::shared_ptr<Executor>>& runtimes) {
  RuntimeSchemas schemas;
  for (const std::string& name : runtimes.names()) {
    const RuntimeSchema* schema = (*runtimes.find(name).value())->schema();
    if (schema != nullptr) schemas.emplace(name, *schema);
  }
  return schemas;
}

Result<std::vector<FunctionSpec>> parseManifests(const SourceText& file,
                                                 const RuntimeSchemas& runtimes) {
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
      specs.push_back(SIE_TRY(parseDocument(doc, file.path, runtimes)));
    }
  } catch (const YAML::Exception& e) {
    const std::string where =
        e.mark.is_null() ? file.path : fmt::format("{}:{}", file.path, e.mark.line + 1);
    return fail(Errc::kParse, "invalid YAML: " + e.msg, where);
  }
  return specs;
}

Result<std::vector<FunctionSpec>> parseManifestSet(const std::vector<SourceText>& files,
                                                   const RuntimeSchemas& runtimes) {
  std::vector<FunctionSpec> all;
  std::map<std::string, std::string> declared;  // id -> where
  for (const auto& file : files) {
    for (auto& spec : SIE_TRY(parseManifests(file, runtimes))) {
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
          {"spec.batch", kBatchKeys},
          {"spec.escalate", kEscalateKeys}};
}

}  // namespace sie::node
