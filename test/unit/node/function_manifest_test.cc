#include "node/function_manifest.h"

#include <gtest/gtest.h>

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
  return parseManifests({"functions/pump.yaml", text});
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
            "functions/pump.yaml:20: spec.scaling.max must be >= 1 and >= min (got max 1 < min 2)");
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
  EXPECT_NE(
      errorOf(replaced(kGood, "kind: kv, key", "kind: sql, key")).find("kind must be window or kv"),
      std::string::npos);
  EXPECT_NE(errorOf(replaced(kGood, "runtime: builtin", "runtime: builtin\n  replicas: 3"))
                .find("unknown key 'replicas'"),
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
  EXPECT_EQ(specs.error().where, "functions/pump.yaml:42");  // 21 lines + separator + line 20
}

TEST(FunctionManifestTest, RejectsADuplicateNameAndVersionAcrossFiles) {
  auto specs = parseManifestSet({{"a.yaml", kGood}, {"b.yaml", kGood}});
  ASSERT_FALSE(specs);
  EXPECT_NE(specs.error().str().find("pump-health@2 is declared twice (first at a.yaml:4)"),
            std::string::npos)
      << specs.error().str();
}

}  // namespace
}  // namespace sie::node
