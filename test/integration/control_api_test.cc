// The control API on the node's real HTTP listener, driven by curl: deploy, update, delete,
// invoke, scale, logs, the OpenFaaS routes, desired state across a restart, and api/openapi.yaml
// against the routes served.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "control_fixture.h"
#include "http/http_server.h"
#include "node/node.h"
#include "runtime/rollout_policy.h"
#include "servers.h"
#include "sie/plugins.h"
#include "test_node.h"

namespace sie {
namespace {

using testing::capture;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::waitUntil;

TEST_F(ControlApiTest, DeployInvokeUpdateAndDeleteAFunctionWhileTheNodeRuns) {
  Reply r = deploy(thresholdManifest("vib", "1", 5));
  ASSERT_EQ(r.status, 201) << r.text;
  EXPECT_EQ(r.body["version"], "1");

  r = deploy(thresholdManifest("vib", "1", 5));  // the same again: nothing changes
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["changed"], false);

  r = deploy(thresholdManifest("vib", "1", 9));  // a version is immutable
  EXPECT_EQ(r.status, 409) << r.text;
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("bump metadata.version"));

  r = invoke("vib", 7);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["function"], "vib@1");
  EXPECT_EQ(r.body["decision"]["anomaly"], true);

  r = deploy(thresholdManifest("vib", "2", 9));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["previous"], "1");
  r = invoke("vib", 7);
  EXPECT_EQ(r.body["function"], "vib@2");
  EXPECT_EQ(r.body["decision"]["anomaly"], false) << r.text;

  r = call("GET", "/api/v1/functions/vib");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["origin"], "api");
  EXPECT_EQ(r.body["manifestSha256"].get<std::string>().size(), 64u) << r.text;
  EXPECT_EQ(r.body["versions"].size(), 2u);
  EXPECT_EQ(r.body["versions"][1]["serving"], true);

  r = call("GET", "/api/v1/functions");
  std::set<std::string> names;
  for (const auto& f : r.body["functions"]) names.insert(f["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"vib", "volts"}));

  // Readings flowing through the gateway reach the deployed version.
  const Reply ingest =
      call("POST", "/api/v1/events", R"({"sensor":"rotating/p2/vibration","value":12})",
           "-H 'Content-Type: application/json'");
  ASSERT_EQ(ingest.status, 202) << ingest.text;
  EXPECT_TRUE(waitUntil([&] {
    return call("GET", "/api/v1/functions/vib").body["anomalies"] == 1;
  })) << call("GET", "/api/v1/functions/vib").text;
  const Reply readings = call("GET", "/api/v1/events?sensor=rotating/p2/vibration&limit=5");
  ASSERT_EQ(readings.status, 200) << readings.text;
  ASSERT_EQ(readings.body["readings"].size(), 1u);
  EXPECT_EQ(readings.body["readings"][0]["value"], 12);
  EXPECT_EQ(readings.body["readings"][0]["quality"], "good");
  // A reading's quality is returned with it.
  ASSERT_EQ(call("POST", "/api/v1/events", R"({"sensor":"misc/probe","value":1,"quality":"bad"})",
                 "-H 'Content-Type: application/json'")
                .status,
            202);
  const Reply bad = call("GET", "/api/v1/events?sensor=misc/probe");
  ASSERT_EQ(bad.body["readings"].size(), 1u) << bad.text;
  EXPECT_EQ(bad.body["readings"][0]["quality"], "bad");
  // Recent decisions outlive the version that made them (version 1 is retired by now).
  const Reply decisions = call("GET", "/api/v1/decisions?anomalies=true");
  ASSERT_EQ(decisions.body.size(), 2u) << decisions.text;
  EXPECT_EQ(decisions.body[0]["version"], "2");
  EXPECT_EQ(decisions.body[1]["version"], "1");

  r = call("DELETE", "/api/v1/functions/vib");
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(call("GET", "/api/v1/functions/vib").status, 404);
  EXPECT_EQ(invoke("vib", 1).status, 404);

  // Every change is in the audit chain.
  auto audit = node_->state().audit().tail(20);
  ASSERT_TRUE(audit);
  int control = 0;
  for (const auto& record : *audit) control += record.kind == "control" ? 1 : 0;
  EXPECT_EQ(control, 3);  // deployed 1, deployed 2, deleted
}

TEST_F(ControlApiTest, VersionsDeployedWhileReadingsFlowLoseNoReading) {
  constexpr int kReadings = 20000;
  ASSERT_EQ(deploy(thresholdManifest("flow", "1", 5)).status, 201);
  std::thread feeder([&] {
    for (int i = 0; i < kReadings; ++i) {
      Telemetry reading;
      reading.sensor = Symbol::intern(fmt::format("rotating/p{}/vibration", i % 50));
      reading.ts_ns = 1'000'000'000LL + i;
      reading.values = {1.0};
      ASSERT_TRUE(node_->ingest().ingest(std::move(reading), "test"));
    }
  });
  for (int v = 2; v <= 11; ++v) {
    auto deployed = node_->control().deploy(
        {.text = thresholdManifest("flow", std::to_string(v), 5), .actor = "test"});
    ASSERT_TRUE(deployed) << deployed.error().error.str();
  }
  feeder.join();
  const auto decided = [] {
    std::uint64_t n = 0;
    for (int v = 1; v <= 11; ++v) {
      n += metrics()
               .counter("sie_decisions_total", "",
                        {{"function", fmt::format("flow@{}", v)}, {"outcome", "normal"}})
               .value();
    }
    return n;
  };
  EXPECT_TRUE(waitUntil([&] { return decided() >= kReadings; })) << decided();
  EXPECT_EQ(decided(), static_cast<std::uint64_t>(kReadings));
  EXPECT_EQ(call("GET", "/api/v1/dead-letters").body.size(), 0u);
  EXPECT_EQ(call("GET", "/api/v1/functions/flow").body["version"], "11");
}

// A reading that is not good says why, in the readings API and the CLI: here a value the site's
// validation flags instead of refusing.
TEST_F(ControlApiTest, AReadingThatIsNotGoodComesWithItsReason) {
  site_text_ += R"(  routes:
    - match: "misc/+/level"
      validate: {min: 0, max: 10, onInvalid: flag}
)";
  restart();
  for (const char* value : {"5", "12"}) {
    ASSERT_EQ(call("POST", "/api/v1/events",
                   fmt::format(R"({{"sensor":"misc/t1/level","value":{}}})", value),
                   "-H 'Content-Type: application/json'")
                  .status,
              202);
  }
  Reply got;
  ASSERT_TRUE(waitUntil([&] {
    got = call("GET", "/api/v1/events?sensor=misc/t1/level");
    return got.body["readings"].size() == 2;
  })) << got.text;
  const auto& readings = got.body["readings"];
  EXPECT_EQ(readings[0]["quality"], "good");
  EXPECT_FALSE(readings[0].contains("flag"));
  EXPECT_EQ(readings[1]["quality"], "bad");
  EXPECT_THAT(readings[1].value("flag", ""), HasSubstr("out of range [0, 10]")) << got.text;
  const std::string table = sie("readings misc/t1/level");
  EXPECT_THAT(table, HasSubstr("REASON"));
  EXPECT_THAT(table, HasSubstr("out of range [0, 10]"));
}

TEST_F(ControlApiTest, BadRequestsGetJsonErrorsThatNameTheProblem) {
  Reply r = deploy("apiVersion: sie/v1\nkind: Function\nmetadata: {name: x, version: \"1\"\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("invalid YAML"));

  r = call("POST", "/api/v1/functions", R"({"apiVersion": "sie/v1", "kind": "Function",)",
           "-H 'Content-Type: application/json'");
  EXPECT_EQ(r.status, 400) << r.text;

  std::string unknown = thresholdManifest("odd", "1", 5);
  unknown.replace(unknown.find("  params"), 0, "  colour: blue\n");
  r = deploy(unknown);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "spec.colour") << r.text;
  EXPECT_THAT(r.body["where"].get<std::string>(), HasSubstr(":"));

  std::string bad_param = thresholdManifest("odd", "1", 5);
  bad_param.replace(bad_param.find("max:"), 4, "top:");
  r = deploy(bad_param);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "spec.params.top") << r.text;

  r = deploy(std::string(2 << 20, 'x'));
  EXPECT_EQ(r.status, 413) << r.text;
  EXPECT_EQ(call("POST", "/api/v1/functions").status, 400);
  EXPECT_EQ(
      deploy(thresholdManifest("a", "1", 1) + "---\n" + thresholdManifest("b", "1", 1)).status,
      400);

  r = call("PUT", "/api/v1/functions/other", thresholdManifest("odd", "1", 5));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "metadata.name");

  // A signature is checked even where none is required; one that is not base64 is named.
  r = call("POST", "/api/v1/functions", thresholdManifest("odd", "1", 5),
           "-H 'Content-Type: application/yaml' -H 'X-Sie-Signature: not base64!'");
  EXPECT_EQ(r.status, 400) << r.text;
  EXPECT_EQ(r.body["field"], "X-Sie-Signature");
  EXPECT_THAT(r.body["message"].get<std::string>(),
              HasSubstr("the base64 of the manifest's .sig document"));

  r = call("POST", "/api/v1/functions/volts/scale", R"({"max": "many"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "max");
  r = call("POST", "/api/v1/functions/volts/scale", R"({"min": 3, "max": 2})");
  EXPECT_EQ(r.status, 400) << r.text;
  r = call("POST", "/api/v1/functions/volts/scale", "{nope");
  EXPECT_EQ(r.status, 400);

  r = call("POST", "/api/v1/functions/volts/invoke", "not a reading");
  EXPECT_EQ(r.status, 400) << r.text;
  r = call("POST", "/api/v1/functions/volts/invoke", R"({"value": 1})",
           "-H 'Content-Type: application/json'");
  EXPECT_EQ(r.status, 400) << r.text;
  EXPECT_EQ(r.body["field"], "sensor") << r.text;
  EXPECT_EQ(invoke("nobody", 1).status, 404);

  r = call("PATCH", "/api/v1/functions/volts");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body["error"], "method_not_allowed");
  // One route table: a path nothing serves is 404 whatever the method; the node's own endpoints
  // answer a wrong method with 405 and what they allow.
  r = call("POST", "/no/such/endpoint");
  EXPECT_EQ(r.status, 404) << r.text;
  EXPECT_EQ(r.body["error"], "not_found");
  r = call("POST", "/healthz");
  EXPECT_EQ(r.status, 405) << r.text;
  EXPECT_THAT(r.text, HasSubstr("use GET"));
  EXPECT_EQ(call("DELETE", "/metrics").status, 405);
  EXPECT_EQ(call("GET", "/api/v1/calls/none").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/events").status, 400);
  // The node still serves.
  EXPECT_EQ(call("GET", "/readyz").status, 200);
}

TEST_F(ControlApiTest, ABrokenModelIsRefusedAndTheServingVersionKeepsServing) {
  ASSERT_EQ(deploy(thresholdManifest("vib", "1", 5)).status, 201);
  const std::string model = data_.file("broken.onnx");
  std::ofstream(model, std::ios::binary) << "\x08\x07garbage that is no ONNX model";
  const Reply r = deploy(fmt::format(R"(apiVersion: sie/v1
kind: Function
metadata: {{name: vib, version: "2"}}
spec:
  runtime: onnx
  handler: {}
  triggers: ["rotating/+/vibration"]
)",
                                     model));
  EXPECT_EQ(r.status, 400) << r.text;
  EXPECT_THAT(r.text, HasSubstr("broken.onnx"));
  const Reply served = invoke("vib", 7);
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(served.body["function"], "vib@1");
}

TEST_F(ControlApiTest, OfTwoConcurrentDeploysOfANameOneWinsAndTheOtherGets409) {
  // A worker that takes a second to start keeps the first deploy in progress.
  TempDir code;
  const std::string script = code.file("slow.py");
  std::ofstream(script) << "#!/usr/bin/python3\nimport sys, time\ntime.sleep(1.0)\n"
                           "sys.path.insert(0, '" SIE_SOURCE_DIR
                           "/sdk/python')\nimport sie_worker\n"
                           "sie_worker.serve(lambda inv: sie_worker.Decision(score=inv.value))\n";
  chmod(script.c_str(), 0755);
  chmod(code.path().c_str(), 0755);
  const auto manifest = [&](const std::string& version) {
    return fmt::format(R"(apiVersion: sie/v1
kind: Function
metadata: {{name: slow, version: "{}"}}
spec:
  runtime: process
  handler: {}
  triggers: ["line/#"]
  process: {{read: ["{}/sdk/python"], startTimeout: 10s}}
)",
                       version, script, SIE_SOURCE_DIR);
  };
  auto first = std::async(std::launch::async, [&] { return deploy(manifest("1")).status; });
  auto second = std::async(std::launch::async, [&] { return deploy(manifest("2")).status; });
  std::multiset<int> statuses{first.get(), second.get()};
  EXPECT_EQ(statuses.count(409), 1u);
  EXPECT_EQ(statuses.count(201), 1u);
  const Reply described = call("GET", "/api/v1/functions/slow");
  EXPECT_EQ(described.status, 200);
}

TEST_F(ControlApiTest, ARestartedNodeComesBackWithWhatTheApiDeployed) {
  ASSERT_EQ(deploy(thresholdManifest("vib", "3", 5)).status, 201);
  std::string volts = kSiteFunction;
  volts.replace(volts.find("\"1\""), 3, "\"2\"");
  volts.replace(volts.find("250"), 3, "240");
  ASSERT_EQ(deploy(volts).status, 200);
  Reply scaled = call("POST", "/api/v1/functions/vib/scale", R"({"min": 2, "max": 3})");
  ASSERT_EQ(scaled.status, 200) << scaled.text;

  restart();
  Reply r = call("GET", "/api/v1/functions/vib");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["version"], "3");
  EXPECT_EQ(r.body["scaling"]["min"], 2);
  EXPECT_EQ(r.body["instances"]["live"], 2);
  EXPECT_EQ(call("GET", "/api/v1/functions/volts").body["version"], "2");  // API over folder

  ASSERT_EQ(call("DELETE", "/api/v1/functions/volts").status, 200);
  restart();
  EXPECT_EQ(call("GET", "/api/v1/functions/volts").status, 404);  // a delete is remembered

  // Reset hands the name back to the config folder.
  r = call("DELETE", "/api/v1/functions/volts?reset=true");
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(call("GET", "/api/v1/functions/volts").body["version"], "1");
  EXPECT_EQ(call("GET", "/api/v1/functions/volts").body["origin"], "site");
  restart();
  EXPECT_EQ(call("GET", "/api/v1/functions/volts").body["version"], "1");
}

TEST_F(ControlApiTest, AsyncInvocationsAnswer202AndPostTheResultToTheCallback) {
  std::promise<http::HttpRequest> received;
  std::atomic<bool> once{false};
  auto receiver = http::HttpServer::start("127.0.0.1:0", [&](const http::HttpRequest& request) {
    if (!once.exchange(true)) received.set_value(request);
    return http::HttpResponse{200, "text/plain", "ok", {}};
  });
  ASSERT_TRUE(receiver);
  const std::string callback = fmt::format("http://127.0.0.1:{}/done", (*receiver)->port());
  Reply r = call("POST", "/api/v1/functions/volts/invoke?async=true",
                 R"({"sensor":"grid/f1/voltage","value":260})",
                 "-H 'Content-Type: application/json' -H 'X-Callback-Url: " + callback + "'");
  ASSERT_EQ(r.status, 202) << r.text;
  const std::string id = r.body["callId"];
  auto future = received.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const http::HttpRequest got = future.get();
  EXPECT_EQ(got.header("x-call-id"), id);
  EXPECT_EQ(nlohmann::json::parse(got.body)["decision"]["anomaly"], true) << got.body;
  r = call("GET", "/api/v1/calls/" + id);
  EXPECT_EQ(r.body["status"], "done") << r.text;
  (*receiver)->stop();
}

TEST_F(ControlApiTest, OpenFaasRoutesDeployListInvokeScaleAndDelete) {
  Reply r = call("POST", "/system/functions",
                 R"({"service":"of-volts","image":"builtin:threshold",
                     "annotations":{"topic":"grid/+/voltage","sie.io/param.max":"250"},
                     "labels":{"com.openfaas.scale.min":"1"}})");
  ASSERT_EQ(r.status, 202) << r.text;
  r = call("GET", "/system/functions");
  ASSERT_EQ(r.status, 200);
  bool listed = false;
  for (const auto& f : r.body)
    listed = listed || (f["name"] == "of-volts" && f["image"] == "builtin:threshold");
  EXPECT_TRUE(listed) << r.text;
  r = call("GET", "/system/function/of-volts");
  EXPECT_EQ(r.body["annotations"]["topic"], "grid/+/voltage");
  r = call("POST", "/function/of-volts", R"({"sensor":"grid/f9/voltage","value":230})",
           "-H 'Content-Type: application/json'");
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_TRUE(r.body.contains("decision"));
  r = call("POST", "/async-function/of-volts", R"({"sensor":"grid/f9/voltage","value":231})",
           "-H 'Content-Type: application/json' -D -");
  EXPECT_THAT(r.text, HasSubstr("202"));
  EXPECT_THAT(r.text, HasSubstr("X-Call-Id: call-"));
  r = call("PUT", "/system/functions",
           R"({"service":"of-volts","image":"builtin:threshold","labels":{"sie.io/version":"7"},
               "annotations":{"topic":"grid/+/voltage","sie.io/param.max":"200"}})");
  EXPECT_EQ(r.status, 202) << r.text;
  EXPECT_EQ(call("GET", "/system/function/of-volts").body["labels"]["sie.io/version"], "7");
  r = call("POST", "/system/scale-function/of-volts", R"({"serviceName":"of-volts","replicas":2})");
  EXPECT_EQ(r.status, 202) << r.text;
  EXPECT_EQ(call("GET", "/system/function/of-volts").body["replicas"], 2);
  r = call("POST", "/system/functions", R"({"service":"x","image":"builtin:zscore"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["field"], "annotations.topic");
  r = call("POST", "/system/functions", R"({"service":"x","image":"y","colour":"red"})");
  EXPECT_EQ(r.body["field"], "colour");
  r = call("DELETE", "/system/functions", R"({"functionName":"of-volts"})");
  EXPECT_EQ(r.status, 202) << r.text;
  EXPECT_EQ(call("GET", "/system/function/of-volts").status, 404);
  r = call("GET", "/system/info");
  EXPECT_EQ(r.body["provider"]["provider"], "sie");
  EXPECT_EQ(call("GET", "/healthz").status, 200);
}

TEST_F(ControlApiTest, LogsTailAndFollowAsNdjson) {
  spdlog::set_level(spdlog::level::info);  // decisions are logged at info
  ASSERT_EQ(deploy(thresholdManifest("vib", "1", 5)).status, 201);
  ASSERT_EQ(invoke("vib", 9).status, 200);
  Reply r = call("GET", "/api/v1/functions/vib/logs?tail=10");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.text, HasSubstr("ANOMALY"));
  const auto first = nlohmann::json::parse(r.text.substr(0, r.text.find('\n')));
  EXPECT_EQ(first["function"], "vib");
  EXPECT_EQ(first["version"], "1");

  // follow: lines logged after the request arrive on the open response.
  const std::string out = data_.file("follow.ndjson");
  auto follower = std::async(std::launch::async, [&] {
    return std::system(fmt::format("curl -sN --max-time 3 {} 'http://127.0.0.1:{}/api/v1/functions/"
                                   "vib/logs?tail=0&follow=true' > {}",
                                   testing::adminAuth(data_.path()), node_->httpPort(), out)
                           .c_str());
  });
  // The follower is in place once a line logged after it arrives on it: invoke until one does.
  const auto followed = [&] {
    std::ifstream in(out);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  EXPECT_TRUE(waitUntil(
      [&] {
        return invoke("vib", 42).status == 200 &&
               followed().find("42 > max 5") != std::string::npos;
      },
      std::chrono::seconds(3)))
      << followed();
  follower.get();
  spdlog::set_level(spdlog::level::warn);
}

TEST_F(ControlApiTest, TheCliDeploysListsInvokesScalesAndDeletes) {
  const std::string dir = data_.file("manifests");
  std::filesystem::create_directories(dir);
  // A marker with a comment separates for the CLI as for the node.
  std::ofstream(dir + "/vib.yaml") << thresholdManifest("vib", "1", 5) << "--- # the other\n"
                                   << thresholdManifest("vib2", "1", 8);
  const std::string node = fmt::format("--node http://127.0.0.1:{}", node_->httpPort());
  std::string out = sie("deploy -f " + dir);
  EXPECT_THAT(out, HasSubstr("vib    1         created")) << out;
  EXPECT_THAT(out, HasSubstr("rc=0"));
  EXPECT_THAT(sie("deploy -f " + dir), HasSubstr("unchanged"));

  std::ofstream(dir + "/vib.yaml") << thresholdManifest("vib", "1", 6);
  out = sie("deploy -f " + dir + "/vib.yaml");
  EXPECT_THAT(out, HasSubstr("bump metadata.version")) << out;
  EXPECT_THAT(out, HasSubstr("rc=1"));

  const auto listed =
      nlohmann::json::parse(capture(fmt::format("{} fn ls -o json {}", SIE_CLI, node)));
  EXPECT_EQ(listed["functions"].size(), 3u) << listed;
  out = sie(R"(invoke vib --data '{"sensor":"rotating/p1/vibration","value":9}')");
  EXPECT_THAT(out, HasSubstr("vib@1: high")) << out;
  out = sie("scale vib --min 0 --max 3");
  EXPECT_THAT(out, HasSubstr("min 0, max 3")) << out;
  EXPECT_EQ(call("GET", "/api/v1/functions/vib").body["scaling"]["max"], 3);
  out = sie("fn rm vib2");
  EXPECT_THAT(out, HasSubstr("rc=0"));
  EXPECT_EQ(call("GET", "/api/v1/functions/vib2").status, 404);
  EXPECT_THAT(sie("fn describe vib2"), HasSubstr("rc=1"));
  EXPECT_THAT(sie("fn ls --names"), HasSubstr("volts"));
  // A sensor's readings with their quality.
  ASSERT_EQ(call("POST", "/api/v1/events", R"([{"sensor":"cli/probe","ts":1,"value":4.5},
                 {"sensor":"cli/probe","ts":2,"value":5,"quality":"uncertain"}])",
                 "-H 'Content-Type: application/json'")
                .status,
            202);
  out = sie("readings cli/probe --limit 5");
  EXPECT_THAT(out, HasSubstr("4.5")) << out;
  EXPECT_THAT(out, HasSubstr("good"));
  EXPECT_THAT(out, HasSubstr("uncertain"));

  // A rollout from the command line: canary, shadow, promote.
  std::ofstream(dir + "/vib3.yaml") << thresholdManifest("vib", "3", 2);
  out = sie("deploy --canary 25 --max-error-rate 0.1 -f " + dir + "/vib3.yaml");
  EXPECT_THAT(out, HasSubstr("rc=0")) << out;
  out = sie("rollout status vib");
  EXPECT_THAT(out, HasSubstr("Candidate:  vib@3")) << out;
  EXPECT_THAT(out, HasSubstr("canary, weight 25 %"));
  EXPECT_THAT(sie("rollout shadow vib"), HasSubstr("shadow, weight 0 %"));
  EXPECT_THAT(sie("rollout promote vib"), HasSubstr("version 3 serves"));
  EXPECT_EQ(call("GET", "/api/v1/functions/vib").body["version"], "3");
  EXPECT_THAT(sie("rollout switch vib 1"), HasSubstr("version 1 serves (was 3)"));
  EXPECT_THAT(sie("rollout promote vib"), HasSubstr("rc=1"));  // nothing to promote
}

// Readings of `sensors` voltage sensors at `value`, as one JSON batch.
std::string voltages(int sensors, double value, std::int64_t ts) {
  nlohmann::json batch = nlohmann::json::array();
  for (int i = 0; i < sensors; ++i) {
    batch.push_back({{"sensor", fmt::format("grid/f{}/voltage", i)}, {"ts", ts}, {"value", value}});
  }
  return batch.dump();
}

TEST_F(ControlApiTest, CanaryThenShadowThenPromote) {
  std::string v2 = kSiteFunction;
  v2.replace(v2.find("\"1\""), 3, "\"2\"");
  v2.replace(v2.find("250"), 3, "240");
  Reply r = call("POST", "/api/v1/functions?strategy=canary&weight=10", v2);
  ASSERT_EQ(r.status, 200) << r.text;
  int canary = 0;
  for (int i = 0; i < 200; ++i)
    canary += node::stickyBucket(fmt::format("grid/f{}/voltage", i)) < 10;
  ASSERT_GT(canary, 5);

  // 245 V: normal for version 1 (max 250), an anomaly for version 2 (max 240).
  const auto ingest = [&](std::int64_t ts) {
    const Reply in = call("POST", "/api/v1/events", voltages(200, 245, ts),
                          "-H 'Content-Type: application/json'");
    ASSERT_EQ(in.status, 202) << in.text;
  };
  const auto rollout = [&] { return call("GET", "/api/v1/functions/volts/rollout").body; };
  ingest(1'000'000'000);
  EXPECT_TRUE(waitUntil([&] {
    const auto s = rollout();
    return s["servingStats"]["invocations"].get<int>() +
               s["candidateStats"]["invocations"].get<int>() ==
           200;
  })) << rollout();
  nlohmann::json s = rollout();
  EXPECT_EQ(s["strategy"], "canary");
  EXPECT_EQ(s["candidateStats"]["invocations"], canary) << s;  // sticky: exactly its sensors
  EXPECT_EQ(s["servingStats"]["invocations"], 200 - canary) << s;

  // The rollout survives a restart.
  restart();
  s = rollout();
  EXPECT_EQ(s["active"], true) << s;
  EXPECT_EQ(s["candidate"], "volts@2");
  EXPECT_EQ(s["weight"], 10);

  r = call("POST", "/api/v1/functions/volts/rollout", R"({"strategy": "shadow"})");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["weight"], 0);
  ingest(2'000'000'000);
  EXPECT_TRUE(waitUntil([&] { return rollout()["shadow"]["compared"] == 200; })) << rollout();
  s = rollout();
  EXPECT_EQ(s["shadow"]["agreement"], 0.0);  // every verdict differs
  EXPECT_GT(s["shadow"]["meanScoreDelta"].get<double>(), 0.0);
  EXPECT_EQ(s["servingStats"]["invocations"], 200);  // since the restart: all of them acted on
  // The shadow never acted: since the restart, no anomaly (version 1 sees none at 245 V).
  EXPECT_EQ(call("GET", "/api/v1/decisions?anomalies=true&limit=1000").body.size(), 0u);

  r = call("POST", "/api/v1/functions/volts/rollout/promote");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(call("GET", "/api/v1/functions/volts").body["version"], "2");
  EXPECT_EQ(rollout()["active"], false);
  restart();
  EXPECT_EQ(call("GET", "/api/v1/functions/volts").body["version"], "2");

  auto audit = node_->state().audit().tail(1000);
  ASSERT_TRUE(audit);
  std::vector<std::string> steps;
  for (const auto& record : *audit) {
    if (record.kind == "control") steps.push_back(nlohmann::json::parse(record.body)["event"]);
  }
  EXPECT_EQ(steps, (std::vector<std::string>{"rollout started", "rollout changed", "promoted"}));
}

TEST_F(ControlApiTest, ACandidateThatTimesOutIsRolledBackAndNoCallerSeesAFailure) {
  TempDir code;
  const std::string script = code.file("hang.py");
  std::ofstream(script)
      << "#!/usr/bin/python3\nimport sys, time\n"
         "sys.path.insert(0, '" SIE_SOURCE_DIR
         "/sdk/python')\nimport sie_worker\n"
         "def handle(inv):\n    time.sleep(5)\n    return sie_worker.Decision(score=0)\n"
         "sie_worker.serve(handle)\n";
  chmod(script.c_str(), 0755);
  chmod(code.path().c_str(), 0755);
  const std::string candidate = fmt::format(R"(apiVersion: sie/v1
kind: Function
metadata: {{name: volts, version: "hangs"}}
spec:
  runtime: process
  handler: {}
  triggers: ["grid/+/voltage"]
  timeout: 50ms
  process: {{read: ["{}/sdk/python"]}}
)",
                                            script, SIE_SOURCE_DIR);
  Reply r =
      call("POST", "/api/v1/functions?strategy=canary&weight=100&minInvocations=3&maxErrorRate=0.2",
           candidate);
  ASSERT_EQ(r.status, 200) << r.text;
  for (int batch = 0; batch < 5; ++batch) {
    const Reply in = call("POST", "/api/v1/events", voltages(20, 260, 1'000'000'000 + batch),
                          "-H 'Content-Type: application/json'");
    ASSERT_EQ(in.status, 202) << in.text;
  }
  const auto decided = [&] {
    return call("GET", "/api/v1/decisions?anomalies=true&limit=1000").body.size();
  };
  EXPECT_TRUE(waitUntil([&] { return decided() >= 100; })) << decided();
  EXPECT_EQ(decided(), 100u);  // every reading decided, by version 1
  const auto decisions = call("GET", "/api/v1/decisions?limit=1000").body;
  for (const auto& d : decisions) ASSERT_EQ(d["version"], "1") << d;
  EXPECT_EQ(call("GET", "/api/v1/dead-letters").body.size(), 0u);
  // The scaler's next tick sees the breached objective.
  const auto active = [&] { return call("GET", "/api/v1/functions/volts/rollout").body["active"]; };
  EXPECT_TRUE(waitUntil([&] { return active() == false; }));
  // The audit record follows the rollback on the scaler's thread.
  // Anomaly decisions are audited too: look past them for the control record.
  const auto rolled_back = [&] {
    auto audit = node_->state().audit().tail(1000);
    return audit && std::any_of(audit->begin(), audit->end(), [](const auto& record) {
             return record.kind == "control" &&
                    record.body.find("rolled back") != std::string::npos;
           });
  };
  EXPECT_TRUE(waitUntil(rolled_back));
}

TEST(SignedDeploysTest, ANodeThatRequiresSignaturesRefusesUnsignedAndTamperedArtifacts) {
  spdlog::set_level(spdlog::level::warn);
  TempDir data;
  TempDir work;
  chmod(work.path().c_str(), 0755);
  chmod(data.path().c_str(), 0711);  // workers run as users of their own: they pass through
  const auto sie = [&](const std::string& args) {
    return capture(fmt::format("{} {} 2>&1; echo \"rc=$?\"", SIE_CLI, args));
  };
  const std::string pki = work.file("pki");
  ASSERT_THAT(sie("pki init --trust-domain plant-a --dir " + pki), HasSubstr("rc=0"));
  Plugins plugins;
  ASSERT_TRUE(registerBuiltinPlugins(plugins));
  auto site = node::parseSite({"t/site.yaml", std::string(kSite) +
                                                  "  requireSignatures: true\n"
                                                  "  security: {keyAuthority: " +
                                                  pki + "/ca.crt}\n"},
                              {});
  ASSERT_TRUE(site) << site.error().str();
  site->data_dir = data.path();
  auto made = node::Node::create(std::move(*site), plugins);
  ASSERT_TRUE(made) << made.error().str();
  auto node = std::move(*made);
  ASSERT_TRUE(node->start());
  const std::string at = fmt::format("--node http://127.0.0.1:{} --token-file {}", node->httpPort(),
                                     testing::adminTokenFile(data.path()));
  const auto version = [&](const std::string& name) {
    const std::string body =
        capture(fmt::format("curl -s http://127.0.0.1:{}/api/v1/functions/{} {}", node->httpPort(),
                            name, testing::adminAuth(data.path())));
    return nlohmann::json::parse(body, nullptr, false).value("version", "?");
  };
  const std::string keys = work.file("keys");
  ASSERT_THAT(sie("keys generate --out " + keys), HasSubstr("rc=0"));
  ASSERT_THAT(sie("keys generate --out " + keys + " --name other"), HasSubstr("rc=0"));

  const std::string manifest = work.file("vib.yaml");
  std::ofstream(manifest) << thresholdManifest("vib", "1", 5);
  std::string out = sie("deploy -f " + manifest + " " + at);
  EXPECT_THAT(out, HasSubstr("requires signed deploys")) << out;
  EXPECT_THAT(out, HasSubstr("rc=1"));
  // A manifest signature alone leaves what the function runs unsigned.
  ASSERT_THAT(sie("sign " + manifest + " --key " + keys + "/sie.key"), HasSubstr("rc=0"));
  out = sie("deploy -f " + manifest + " " + at);
  EXPECT_THAT(out, HasSubstr("sign the function's bundle")) << out;
  std::filesystem::remove(manifest + ".sig");

  out = sie("sign --bundle " + manifest + " --sequence 5 --key " + keys + "/sie.key");
  ASSERT_THAT(out, HasSubstr("rc=0"));
  EXPECT_THAT(out, HasSubstr("vib, release 5, 0 files")) << out;
  out = sie("deploy -f " + manifest + " " + at);
  EXPECT_THAT(out, HasSubstr("does not trust")) << out;  // not yet a trusted key

  // The right to manage keys is not enough: the site CA must have endorsed the key.
  out = sie("keys add " + keys + "/sie.pub " + at);
  EXPECT_THAT(out, HasSubstr("site CA's endorsement")) << out;
  EXPECT_THAT(out, Not(HasSubstr("rc=0")));
  ASSERT_THAT(sie("pki endorse " + keys + "/sie.pub --dir " + pki), HasSubstr("rc=0"));
  std::filesystem::copy_file(keys + "/sie.pub.endorsement", keys + "/other.pub.endorsement");
  out = sie("keys add " + keys + "/other.pub " + at);  // another key's endorsement
  EXPECT_THAT(out, HasSubstr("the endorsement is for key")) << out;
  ASSERT_THAT(sie("keys add " + keys + "/sie.pub " + at), HasSubstr("trusted key"));
  out = sie("deploy -f " + manifest + " " + at);
  EXPECT_THAT(out, HasSubstr("created")) << out;
  const std::string v1 = work.file("v1");
  std::filesystem::create_directories(v1);
  for (const std::string suffix : {"", ".bundle", ".bundle.sig"}) {
    std::filesystem::copy_file(manifest + suffix, v1 + "/vib.yaml" + suffix);
  }

  std::ofstream(manifest) << thresholdManifest("vib", "2", 50);  // changed, old bundle
  out = sie("deploy -f " + manifest + " " + at);
  EXPECT_THAT(out, HasSubstr("the manifest changed after it was signed")) << out;
  ASSERT_THAT(sie("sign --bundle " + manifest + " --sequence 6 --key " + keys + "/other.key"),
              HasSubstr("rc=0"));
  EXPECT_THAT(sie("deploy -f " + manifest + " " + at), HasSubstr("does not trust"));
  ASSERT_THAT(sie("sign --bundle " + manifest + " --sequence 6 --key " + keys + "/sie.key"),
              HasSubstr("rc=0"));
  out = sie("deploy -f " + manifest + " " + at);
  EXPECT_THAT(out, HasSubstr("updated (was 1)")) << out;

  // A replayed older release is refused, unless rolled back on purpose (and audited).
  out = sie("deploy -f " + v1 + "/vib.yaml " + at);
  EXPECT_THAT(out, HasSubstr("an older signed release is refused")) << out;
  EXPECT_EQ(version("vib"), "2");
  out = sie("deploy --rollback -f " + v1 + "/vib.yaml " + at);
  EXPECT_THAT(out, HasSubstr("updated (was 2)")) << out;

  // Every file the function runs or reads is covered: its modules, not only the executable.
  const std::string folder = work.file("score");
  std::filesystem::create_directories(folder);
  std::ofstream(folder + "/score.py")
      << "#!/usr/bin/python3\nimport sys\nsys.path.insert(0, '" SIE_SOURCE_DIR
         "/sdk/python')\nimport sie_worker\nimport helper\n"
         "sie_worker.serve(lambda inv: sie_worker.Decision(score=inv.value * helper.GAIN))\n";
  std::ofstream(folder + "/helper.py") << "GAIN = 1\n";
  chmod((folder + "/score.py").c_str(), 0755);
  const std::string process = folder + "/score.yaml";
  const auto processManifest = [&](const std::string& release) {
    std::ofstream(process) << fmt::format(
        "apiVersion: sie/v1\nkind: Function\nmetadata: {{name: score, version: \"{}\"}}\nspec:\n"
        "  runtime: process\n  handler: score.py\n  triggers: [\"line/#\"]\n"
        "  process: {{read: [\"{}/sdk/python\"]}}\n",
        release, SIE_SOURCE_DIR);
  };
  processManifest("1");
  out = sie("sign --bundle " + process + " --key " + keys + "/sie.key");
  EXPECT_THAT(out, HasSubstr("3 files")) << out;  // score.py, helper.py and the manifest
  out = sie("deploy -f " + process + " " + at);
  EXPECT_THAT(out, HasSubstr("created")) << out;
  processManifest("2");
  ASSERT_THAT(sie("sign --bundle " + process + " --key " + keys + "/sie.key"), HasSubstr("rc=0"));
  std::ofstream(folder + "/helper.py") << "GAIN = 1000\n";  // after signing
  out = sie("deploy -f " + process + " " + at);
  EXPECT_THAT(out, HasSubstr("helper.py changed after it was signed")) << out;
  std::ofstream(folder + "/helper.py") << "GAIN = 1\n";
  std::ofstream(folder + "/sitecustomize.py") << "import os\n";  // slipped in beside it
  out = sie("deploy -f " + process + " " + at);
  EXPECT_THAT(out, HasSubstr("sitecustomize.py is not in the signed bundle")) << out;
  std::filesystem::remove(folder + "/sitecustomize.py");
  out = sie("deploy -f " + process + " " + at);
  EXPECT_THAT(out, HasSubstr("updated (was 1)")) << out;
  EXPECT_EQ(version("score"), "2");

  auto audit = node->state().audit().tail(50);
  ASSERT_TRUE(audit);
  bool signed_deploy = false;
  bool rolled_back = false;
  bool refused_key = false;
  for (const auto& r : *audit) {
    signed_deploy |= r.body.find("signed by") != std::string::npos;
    rolled_back |= r.body.find("rolled back from release 6 to 5") != std::string::npos;
    refused_key |= r.body.find("key refused") != std::string::npos;
  }
  EXPECT_TRUE(signed_deploy);
  EXPECT_TRUE(rolled_back);
  EXPECT_TRUE(refused_key);
  node->stop();
}

TEST_F(ControlApiTest, ACanaryOverItsLatencyObjectiveIsRolledBack) {
  std::string v2 = kSiteFunction;
  v2.replace(v2.find("\"1\""), 3, "\"2\"");
  // No invocation takes under a microsecond: the p99 objective is breached from the start.
  Reply r =
      call("POST",
           "/api/v1/functions?strategy=canary&weight=100&maxLatencyMs=0.001&minInvocations=5", v2);
  ASSERT_EQ(r.status, 200) << r.text;
  ASSERT_EQ(call("POST", "/api/v1/events", voltages(20, 230, 1'000'000'000),
                 "-H 'Content-Type: application/json'")
                .status,
            202);
  const auto active = [&] { return call("GET", "/api/v1/functions/volts/rollout").body["active"]; };
  EXPECT_TRUE(waitUntil([&] { return active() == false; }));
  const auto audited = [&] {
    auto audit = node_->state().audit().tail(1000);
    return audit && std::any_of(audit->begin(), audit->end(), [](const auto& record) {
             return record.kind == "control" &&
                    record.body.find("p99 latency") != std::string::npos;
           });
  };
  EXPECT_TRUE(waitUntil(audited));
  EXPECT_EQ(call("GET", "/api/v1/functions/volts").body["version"], "1");
}

TEST_F(ControlApiTest, OpenApiDocumentListsExactlyTheRoutesServed) {
  const YAML::Node doc = YAML::LoadFile(SIE_SOURCE_DIR "/api/openapi.yaml");
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& path : doc["paths"]) {
    for (const auto& op : path.second) {
      std::string method = op.first.as<std::string>();
      if (method == "parameters") continue;
      std::transform(method.begin(), method.end(), method.begin(), ::toupper);
      documented.emplace(method, path.first.as<std::string>());
    }
  }
  for (const auto& route : node_->api().routes()) {
    EXPECT_TRUE(documented.contains(route))
        << route.first << " " << route.second << " is served but not in api/openapi.yaml";
  }
  // Every documented operation exists (the node's own endpoints included): none is a 404
  // "no endpoint".
  for (const auto& [method, path] : documented) {
    std::string concrete = path;
    for (auto open = concrete.find('{'); open != std::string::npos; open = concrete.find('{')) {
      concrete.replace(open, concrete.find('}') - open + 1, "volts");
    }
    const Reply r = call(method, concrete);
    EXPECT_NE(r.status, 405) << method << " " << path << ": " << r.text;
    if (r.status == 404) {
      EXPECT_THAT(r.text, ::testing::Not(HasSubstr("no endpoint"))) << method << " " << path;
    }
  }
}

}  // namespace
}  // namespace sie
