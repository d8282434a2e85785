#include "config/function_manifest.h"

#include <gtest/gtest.h>

#include "exec/onnx/model_binding.h"
#include "exec/process/process_binding.h"
#include "runtime_schemas.h"

namespace sie::node {
namespace {

constexpr const char* kGood = R"(apiVersion: sie/v1
kind: Function
metadata:
  name: pump-health
  version: "2"
spec:
  runtime: builtin
  handler: zscore
  triggers:
    - rotating/+/bearing_temp
    - topic: rotating/pump9/#
  inputs:
    - {name: history, kind: window, last: 60}
    - {name: max, kind: kv, key: "limits/{sensor}/max", default: 80}
  outputs:
    - {kind: decision, onlyAnomalies: true}
  params: {threshold: 3.5}
  timeout: 50ms
  retries: 2
  scaling: {min: 0, max: 4}
)";

Result<std::vector<FunctionSpec>> parse(const std::string& text) {
  return parseManifests({"functions/pump.yaml", text}, sie::testing::runtimeSchemas());
}

std::string errorOf(const std::string& text) {
  auto r = parse(text);
  EXPECT_FALSE(r) << "expected an error for:\n" << text;
  return r ? "" : r.error().str();
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(FunctionManifestTest, ParsesACompleteManifest) {
  auto specs = parse(kGood);
  ASSERT_TRUE(specs) << specs.error().str();
  ASSERT_EQ(specs->size(), 1u);
  const FunctionSpec& s = specs->front();
  EXPECT_EQ(s.id(), "pump-health@2");
  EXPECT_EQ(s.runtime, "builtin");
  EXPECT_EQ(s.handler, "zscore");
  EXPECT_EQ(s.triggers, (std::vector<std::string>{"rotating/+/bearing_temp", "rotating/pump9/#"}));
  ASSERT_EQ(s.inputs.size(), 2u);
  EXPECT_EQ(s.inputs[0].kind, InputBinding::Kind::kWindow);
  EXPECT_EQ(s.inputs[0].last, 60u);
  EXPECT_EQ(s.inputs[1].key, "limits/{sensor}/max");
  EXPECT_EQ(s.inputs[1].fallback, 80.0);
  ASSERT_EQ(s.outputs.size(), 1u);
  EXPECT_TRUE(s.outputs[0].only_anomalies);
  EXPECT_EQ(s.outputs[0].topic, "decisions/{function}/{sensor}");
  EXPECT_EQ(s.params.at("threshold"), 3.5);
  EXPECT_EQ(s.timeout, std::chrono::milliseconds(50));
  EXPECT_EQ(s.retries, 2);
  EXPECT_EQ(s.scaling.min, 0);
  EXPECT_EQ(s.scaling.max, 4);
  EXPECT_EQ(s.source_file, "functions/pump.yaml:4");
}

TEST(FunctionManifestTest, ReadsSeveralDocumentsAndDefaultsOutputs) {
  const std::string minimal =
      "apiVersion: sie/v1\nkind: Function\nmetadata: {name: a}\n"
      "spec: {runtime: builtin, handler: zscore, triggers: [x/#]}\n";
  auto specs = parse(minimal + "---\n" + replaced(minimal, "name: a", "name: b") + "---\n");
  ASSERT_TRUE(specs) << specs.error().str();
  ASSERT_EQ(specs->size(), 2u);
  EXPECT_EQ((*specs)[0].version, "1");
  EXPECT_EQ((*specs)[1].name, "b");
  ASSERT_EQ((*specs)[0].outputs.size(), 1u);
  EXPECT_EQ((*specs)[0].outputs[0].kind, OutputRule::Kind::kDecision);
}

TEST(FunctionManifestTest, ErrorsNameFileLineAndField) {
  EXPECT_EQ(errorOf(replaced(kGood, "scaling: {min: 0, max: 4}", "scaling: {min: 2, max: 1}")),
            "functions/pump.yaml:20: spec.scaling.max must be at least min (got max 1 < min 2)");
  EXPECT_NE(
      errorOf(replaced(kGood, "kind: Function", "kind: Deployment")).find("kind must be Function"),
      std::string::npos);
  EXPECT_NE(errorOf(replaced(kGood, "apiVersion: sie/v1", "apiVersion: v2"))
                .find("apiVersion must be sie/v1"),
            std::string::npos);
  EXPECT_NE(
      errorOf(replaced(kGood, "name: pump-health", "name: Pump_Health")).find("metadata.name"),
      std::string::npos);
  EXPECT_NE(errorOf(replaced(kGood, "retries: 2", "retries: 99")).find("spec.retries"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(kGood, "timeout: 50ms", "timeout: soon")).find("not a duration"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(kGood, "threshold: 3.5", "threshold: high"))
                .find("spec.params.threshold must be a number"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(kGood, "- rotating/+/bearing_temp", "- rotating/#/x"))
                .find("'#' may only be the last level"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(kGood, "kind: window, last: 60", "kind: window")).find("needs 'last'"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(kGood, "kind: kv, key", "kind: sql, key"))
                .find("'spec.inputs[].kind' must be window or kv (got 'sql')"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(kGood, "runtime: builtin", "runtime: builtin\n  replicas: 3"))
                .find("unknown key 'spec.replicas'"),
            std::string::npos);
}

TEST(FunctionManifestTest, BrokenYamlGivesLineNotCrash) {
  const std::string error =
      errorOf("apiVersion: sie/v1\nkind: Function\nmetadata: {name: [unclosed\n");
  EXPECT_NE(error.find("functions/pump.yaml:"), std::string::npos);
  EXPECT_NE(error.find("invalid YAML"), std::string::npos);
  EXPECT_NE(errorOf("- just\n- a list\n").find("expected a map"), std::string::npos);
  EXPECT_NE(errorOf("apiVersion: sie/v1\nkind: Function\nmetadata: {name: a}\nspec:\n  runtime: "
                    "builtin\n  handler: z\n")
                .find("spec.triggers is missing"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string("\x01\x02\xff: [")).find("invalid YAML"), std::string::npos);
}

TEST(FunctionManifestTest, InputThatLoopsYamlCppLoadAllIsRefused) {
  // Found by fuzz_manifest: yaml-cpp's LoadAll never returns on this text.
  EXPECT_FALSE(parse(", Power grid :feeder voltage excurmon# Powers0 "));
  EXPECT_FALSE(parse("a: 1\n---\n, x :y\n--- \n, z"));
}

TEST(FunctionManifestTest, DocumentsKeepTheirFileLineNumbers) {
  const std::string second =
      replaced(kGood, "scaling: {min: 0, max: 4}", "scaling: {min: 2, max: 1}");
  auto specs = parse(std::string(kGood) + "---\n" + second);
  ASSERT_FALSE(specs);
  // 20 lines, the marker on 21, the second document's line 20 on 41 (42 before the node and
  // the CLI shared one splitter: the node counted the marker's line twice).
  EXPECT_EQ(specs.error().where, "functions/pump.yaml:41");
  // What follows a marker stays on the marker's line.
  specs = parse(std::string(kGood) + "--- # the second pump\n" + second);
  ASSERT_FALSE(specs);
  EXPECT_EQ(specs.error().where, "functions/pump.yaml:41");
}

TEST(FunctionManifestTest, RejectsADuplicateNameAndVersionAcrossFiles) {
  auto specs =
      parseManifestSet({{"a.yaml", kGood}, {"b.yaml", kGood}}, sie::testing::runtimeSchemas());
  ASSERT_FALSE(specs);
  EXPECT_NE(specs.error().str().find("pump-health@2 is declared twice (first at a.yaml:4)"),
            std::string::npos)
      << specs.error().str();
}

}  // namespace
}  // namespace sie::node

namespace sie::node {
namespace {

constexpr const char* kModel = R"(apiVersion: sie/v1
kind: Function
metadata: {name: zone-model}
spec:
  runtime: onnx
  handler: ../models/hvac.onnx
  triggers: ["hvac/+/temperature"]
  inputs:
    - {name: temperature, kind: window, last: 29}
    - {name: airflow, kind: window, sensor: "hvac/{2}/airflow", last: 30}
  batch: {maxSize: 64, maxDelay: 500us}
  model:
    channels: [temperature, airflow]
    window: 30
    hop: 10s
    mean: [20, 1500]
    std: [2, 300.5]
    score: reconstruction
    threshold: 0.7
    errorScale: 0.02
)";

TEST(FunctionManifestTest, ParsesModelBindingsAndBatching) {
  auto specs = parseManifests({"site/functions/zone.yaml", kModel}, sie::testing::runtimeSchemas());
  ASSERT_TRUE(specs) << specs.error().str();
  const FunctionSpec& s = specs->front();
  EXPECT_EQ(s.base_dir, "site/functions");
  EXPECT_EQ(s.batch.max_size, 64);
  EXPECT_EQ(s.batch.max_delay, std::chrono::microseconds(500));
  ASSERT_NE(onnx::modelBinding(s), nullptr);
  EXPECT_EQ(onnx::modelBinding(s)->channels, (std::vector<std::string>{"temperature", "airflow"}));
  EXPECT_EQ(onnx::modelBinding(s)->window, 30u);
  EXPECT_EQ(onnx::modelBinding(s)->hop, std::chrono::seconds(10));
  EXPECT_EQ(onnx::modelBinding(s)->mean, (std::vector<double>{20, 1500}));
  EXPECT_EQ(onnx::modelBinding(s)->std, (std::vector<double>{2, 300.5}));
  EXPECT_EQ(onnx::modelBinding(s)->score, "reconstruction");
  EXPECT_EQ(onnx::modelBinding(s)->threshold, 0.7);
  EXPECT_EQ(onnx::modelBinding(s)->error_scale, 0.02);
  EXPECT_EQ(s.inputs[1].sensor, "hvac/{2}/airflow");
  EXPECT_EQ(onnx::modelBinding(s)->resample,
            std::chrono::nanoseconds(0));  // the trigger's own readings
  EXPECT_FALSE(onnx::modelBinding(s)->linear);
  auto resampled =
      parseManifests({"site/functions/zone.yaml",
                      replaced(kModel, "    hop: 10s\n",
                               "    hop: 10s\n    resample: 500ms\n    interpolate: linear\n")},
                     sie::testing::runtimeSchemas());
  ASSERT_TRUE(resampled) << resampled.error().str();
  EXPECT_EQ(onnx::modelBinding(resampled->front())->resample, std::chrono::milliseconds(500));
  EXPECT_TRUE(onnx::modelBinding(resampled->front())->linear);
  // Without the blocks: no model binding, no batching.
  auto plain = parse(kGood);
  ASSERT_TRUE(plain);
  EXPECT_EQ(onnx::modelBinding(plain->front()), nullptr);
  EXPECT_EQ(plain->front().batch.max_size, 1);
}

TEST(FunctionManifestTest, ModelAndBatchErrorsNameTheField) {
  const std::string m = kModel;
  EXPECT_NE(errorOf(replaced(m, "std: [2, 300.5]", "std: [2]"))
                .find("mean and std need one number per channel"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "mean: [20, 1500]", "mean: [20, warm]"))
                .find("'spec.model.mean' must be a list of numbers (got 'warm')"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "score: reconstruction", "score: vibes"))
                .find("'spec.model.score' must be probability, reconstruction or residual"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "errorScale: 0.02", "errorScale: 0"))
                .find("'spec.model.errorScale' must be more than 0 (got 0)"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "window: 30", "window: 0"))
                .find("'spec.model.window' must be 1 to 100000 (got 0)"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "maxSize: 64", "maxSize: 0"))
                .find("'spec.batch.maxSize' must be 1 to 4096 (got 0)"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "maxDelay: 500us", "maxDelay: 5s"))
                .find("'spec.batch.maxDelay' must be 0 to 1s (got 5s)"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "    hop: 10s\n", "    hopp: 10s\n")).find("hopp"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "    hop: 10s\n", "    resample: 1s\n    interpolate: cubic\n"))
                .find("'spec.model.interpolate' must be hold or linear (got 'cubic')"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "    hop: 10s\n", "    interpolate: linear\n"))
                .find("linear needs spec.model.resample"),
            std::string::npos);
  EXPECT_NE(
      errorOf(
          replaced(m, "    mean: [20, 1500]\n    std: [2, 300.5]\n",
                   "    min: [0, 0]\n    max: [1, 1]\n    mean: [20, 1500]\n    std: [2, 300.5]\n"))
          .find("not both"),
      std::string::npos);
}

}  // namespace
}  // namespace sie::node

namespace sie::node {
namespace {

TEST(FunctionManifestTest, ParsesEscalationAndNamesItsErrors) {
  const std::string m = replaced(kModel, "  batch: {maxSize: 64, maxDelay: 500us}\n",
                                 "  escalate: {to: zone-big, band: [0.3, 0.7], deadline: 20ms}\n");
  auto specs = parse(m);
  ASSERT_TRUE(specs) << specs.error().str();
  ASSERT_TRUE(specs->front().escalate);
  EXPECT_EQ(specs->front().escalate->to, "zone-big");
  EXPECT_EQ(specs->front().escalate->low, 0.3);
  EXPECT_EQ(specs->front().escalate->high, 0.7);
  EXPECT_EQ(specs->front().escalate->deadline, std::chrono::milliseconds(20));
  EXPECT_NE(errorOf(replaced(m, "band: [0.3, 0.7]", "band: [0.7, 0.3]")).find("low < high"),
            std::string::npos);
  EXPECT_NE(
      errorOf(replaced(m, "to: zone-big", "to: zone-model")).find("names the function itself"),
      std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "deadline: 20ms", "deadline: 0ms"))
                .find("'spec.escalate.deadline' must be 1ms to 1m (got 0ms)"),
            std::string::npos);
}

}  // namespace
}  // namespace sie::node

namespace sie::node {
namespace {

TEST(FunctionManifestTest, KvAndEventOutputsNeedTheirTarget) {
  const std::string base =
      replaced(kGood, "    - {kind: decision, onlyAnomalies: true}\n",
               "    - {kind: kv, key: \"health/{2}\", ttl: 1h}\n"
               "    - {kind: event, topic: \"commands/{sensor}\", onlyAnomalies: true}\n");
  auto specs = parse(base);
  ASSERT_TRUE(specs) << specs.error().str();
  const auto& outputs = specs->front().outputs;
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0].kind, OutputRule::Kind::kKv);
  EXPECT_EQ(outputs[0].key, "health/{2}");
  EXPECT_EQ(outputs[0].ttl, std::chrono::hours(1));
  EXPECT_EQ(outputs[1].kind, OutputRule::Kind::kEvent);
  EXPECT_TRUE(outputs[1].only_anomalies);
  EXPECT_NE(errorOf(replaced(base, "{kind: kv, key: \"health/{2}\", ttl: 1h}", "{kind: kv}"))
                .find("a kv output needs 'key'"),
            std::string::npos);
  EXPECT_NE(
      errorOf(replaced(base, "{kind: event, topic: \"commands/{sensor}\", onlyAnomalies: true}",
                       "{kind: event}"))
          .find("an event output needs 'topic'"),
      std::string::npos);
}

}  // namespace
}  // namespace sie::node

namespace sie::node {
namespace {

constexpr const char* kProcess = R"(apiVersion: sie/v1
kind: Function
metadata: {name: pump-rule}
spec:
  runtime: process
  handler: bin/pump-rule
  triggers: ["rotating/+/bearing_temp"]
  process:
    protocol: lambda
    args: [--fast]
    env: {MODE: strict, LEVEL: "3"}
    read: [../models]
    network: true
    memory: 128Mi
    cpu: 30s
    openFiles: 256
    processes: 4
    scratch: 16Mi
    startTimeout: 2s
)";

TEST(FunctionManifestTest, ParsesProcessBindings) {
  auto specs = parse(kProcess);
  ASSERT_TRUE(specs) << specs.error().str();
  const process::ProcessBinding& p = *process::processBinding(specs->front());
  EXPECT_EQ(p.protocol, process::ProcessBinding::Protocol::kLambda);
  EXPECT_EQ(p.args, std::vector<std::string>{"--fast"});
  EXPECT_EQ(p.env.at("MODE"), "strict");
  EXPECT_EQ(p.env.at("LEVEL"), "3");
  EXPECT_EQ(p.read, std::vector<std::string>{"../models"});
  EXPECT_TRUE(p.network);
  EXPECT_EQ(p.memory_bytes, 128ULL << 20);
  EXPECT_EQ(p.cpu, std::chrono::seconds(30));
  EXPECT_EQ(p.open_files, 256);
  EXPECT_EQ(p.processes, 4);
  EXPECT_EQ(p.scratch_bytes, 16ULL << 20);
  EXPECT_EQ(p.start_timeout, std::chrono::seconds(2));

  // runtime: process without the block gets the defaults: native, confined.
  const std::string m = kProcess;
  const std::string plain = m.substr(0, m.find("  process:"));
  auto defaults = parse(plain);
  ASSERT_TRUE(defaults) << defaults.error().str();
  ASSERT_NE(process::processBinding(defaults->front()), nullptr);
  EXPECT_EQ(process::processBinding(defaults->front())->protocol,
            process::ProcessBinding::Protocol::kNative);
  EXPECT_FALSE(process::processBinding(defaults->front())->network);
  EXPECT_EQ(process::processBinding(defaults->front())->memory_bytes, 256ULL << 20);
  EXPECT_EQ(process::processBinding(defaults->front())->processes, 1);
  EXPECT_EQ(process::processBinding(defaults->front())->scratch_bytes, 64ULL << 20);
}

TEST(FunctionManifestTest, ProcessErrorsNameTheField) {
  const std::string m = kProcess;
  EXPECT_NE(errorOf(replaced(m, "protocol: lambda", "protocol: grpc"))
                .find("'spec.process.protocol' must be native or lambda (got 'grpc')"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "memory: 128Mi", "memory: lots"))
                .find("'spec.process.memory': 'lots' is not a size"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "memory: 128Mi", "memory: 1Mi"))
                .find("'spec.process.memory' must be 0 or 16Mi or more (got 1Mi)"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "openFiles: 256", "openFiles: 3"))
                .find("'spec.process.openFiles' must be 16 to 65536 (got 3)"),
            std::string::npos);
  for (const char* bad : {"scratch: 512Ki", "scratch: 2Ti", "scratch: plenty"}) {
    const std::string error = errorOf(replaced(m, "scratch: 16Mi", bad));
    EXPECT_NE(error.find("'spec.process.scratch'"), std::string::npos) << bad;
    EXPECT_TRUE(error.find("must be 0 or 1Mi to 1Ti") != std::string::npos ||
                error.find("is not a size") != std::string::npos)
        << error;
  }
  EXPECT_TRUE(parse(replaced(m, "scratch: 16Mi", "scratch: 0")));
  EXPECT_NE(errorOf(replaced(m, "processes: 4", "processes: 0"))
                .find("'spec.process.processes' must be 1 to 4096 (got 0)"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "env: {MODE: strict, LEVEL: \"3\"}", "env: [MODE]"))
                .find("'spec.process.env' must be a map of strings"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "    cpu: 30s\n", "    cpus: 30s\n")).find("cpus"),
            std::string::npos);
  EXPECT_NE(errorOf(replaced(m, "runtime: process", "runtime: builtin"))
                .find("spec.process is for runtime: process"),
            std::string::npos);
}

// Variables that make a loader, the C library or a runtime load code are refused by name: the
// launcher and every runtime the worker execs would honour them.
TEST(FunctionManifestTest, ProcessEnvRefusesCodeInjectionVariables) {
  const std::string m = kProcess;
  for (const char* name : {"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GLIBC_TUNABLES",
                           "GCONV_PATH", "PYTHONSTARTUP", "NODE_OPTIONS", "BASH_ENV",
                           "BASH_FUNC_ls%%", "PERL5OPT", "JAVA_TOOL_OPTIONS", "HOME"}) {
    const std::string error =
        errorOf(replaced(m, "env: {MODE: strict, LEVEL: \"3\"}",
                         std::string("env: {MODE: strict, \"") + name + "\": /tmp/evil.so}"));
    EXPECT_NE(error.find(std::string("spec.process.env.") + name), std::string::npos) << error;
    EXPECT_NE(error.find("refuses variables that load code"), std::string::npos) << error;
    EXPECT_NE(error.find("functions/pump.yaml:"), std::string::npos) << error;  // file:line
  }
  EXPECT_TRUE(parse(replaced(m, "env: {MODE: strict, LEVEL: \"3\"}",
                             "env: {_HANDLER: fn.handler, PYTHONPATH: lib, LDAP_URI: x}")));
}

}  // namespace
}  // namespace sie::node

namespace sie::node {
namespace {

// A runtime the parser has never heard of: its schema alone makes its block readable.
struct ToySettings {
  std::string colour;
  std::uint64_t memory = 0;
};

constexpr ConfigKey kToyKeys[] = {
    ConfigKey{"colour", ConfigKey::Type::kString, "red", "paint"}.oneOf("red|green"),
    ConfigKey{"memory", ConfigKey::Type::kSize, "1Mi", "room"}.within(1 << 20, 1 << 30),
};

Status applyToy(const ConfigValues& block, FunctionSpec& spec) {
  spec.settings = ToySettings{block.str("colour"), block.bytes("memory")};
  spec.read_paths.push_back("toy-data");
  return ok();
}

constexpr const char* kToy = R"(apiVersion: sie/v1
kind: Function
metadata: {name: toy}
spec:
  runtime: toy
  handler: play
  triggers: [a/#]
  toy: {colour: green, memory: 2Mi}
)";

TEST(FunctionManifestTest, ARuntimesOwnBlockIsReadByItsSchema) {
  const RuntimeSchemas schemas{{"toy", RuntimeSchema{"toy", kToyKeys, false, applyToy}}};
  auto specs = parseManifests({"f.yaml", kToy}, schemas);
  ASSERT_TRUE(specs) << specs.error().str();
  const auto* toy = std::any_cast<ToySettings>(&specs->front().settings);
  ASSERT_NE(toy, nullptr);
  EXPECT_EQ(toy->colour, "green");
  EXPECT_EQ(toy->memory, 2u << 20);
  EXPECT_EQ(specs->front().read_paths, std::vector<std::string>{"toy-data"});

  // Its keys are checked like any block's, named by their path.
  std::string wrong = kToy;
  wrong.replace(wrong.find("green"), 5, "blue");
  auto refused = parseManifests({"f.yaml", wrong}, schemas);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().str(), "f.yaml:8: 'spec.toy.colour' must be red or green (got 'blue')");
  // Without the schema (a node without that runtime) the block is an unknown key...
  auto unknown = parseManifests({"f.yaml", kToy}, {});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown key 'spec.toy'"), std::string::npos);
  // ...and another runtime's block is refused, naming whose it is.
  std::string other = kToy;
  other.replace(other.find("runtime: toy"), 12, "runtime: builtin");
  auto misplaced = parseManifests({"f.yaml", other}, schemas);
  ASSERT_FALSE(misplaced);
  EXPECT_EQ(misplaced.error().str(), "f.yaml:8: spec.toy is for runtime: toy");
}

}  // namespace
}  // namespace sie::node
