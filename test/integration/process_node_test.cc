// Process functions inside a whole node: worker processes SIGKILLed at random while events flow
// lose nothing and apply every event's effects once; pools scale to zero and back.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "exec/process/dapr_api.h"
#include "runtime/local_bus.h"
#include "servers.h"
#include "sie/metrics.h"
#include "state/embedded_store.h"
#include "test_node.h"

namespace sie {
namespace {

using testing::TempDir;
using testing::waitUntil;

// Processes whose command line mentions `needle` (the worker script's path).
std::vector<pid_t> processesRunning(const std::string& needle) {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (const dirent* entry = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (pid <= 0) continue;
    // A process may exit while we read it (read fails with ESRCH): it is then not running.
    const int fd = ::open(("/proc/" + std::string(entry->d_name) + "/cmdline").c_str(), O_RDONLY);
    if (fd < 0) continue;
    std::string cmdline(4096, '\0');
    const ssize_t got = ::read(fd, cmdline.data(), cmdline.size());
    ::close(fd);
    cmdline.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
    if (cmdline.find(needle) != std::string::npos) out.push_back(pid);
  }
  closedir(proc);
  return out;
}

class ProcessNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registerBuiltinPlugins(plugins_));
    chmod(code_.path().c_str(), 0755);
    script_ = code_.file("score.py");
    std::ofstream(script_) << "#!/usr/bin/python3\nimport sys\nsys.path.insert(0, '" SIE_SOURCE_DIR
                              "/sdk/python')\nimport sie_worker\n"
                              "sie_worker.serve(lambda inv: sie_worker.Decision(score=inv.value, "
                              "anomaly=inv.value > 90))\n";
    chmod(script_.c_str(), 0755);
  }

  std::unique_ptr<node::Node> startNode(const std::string& scaling, int retries) {
    const std::string manifest =
        "apiVersion: sie/v1\nkind: Function\nmetadata: {name: score}\nspec:\n"
        "  runtime: process\n  handler: " +
        script_ +
        "\n  triggers: [\"line/#\"]\n  timeout: 2s\n  retries: " + std::to_string(retries) +
        "\n  retryDelay: 5ms\n  scaling: " + scaling +
        "\n  process: {read: [\"" SIE_SOURCE_DIR "/sdk/python\"]}\n";
    auto made = testing::makeNode(testing::siteWith("", "") + "  dispatcher: {workers: 4}\n",
                                  {{"t/functions/score.yaml", manifest}}, data_.path(), plugins_);
    EXPECT_TRUE(made) << made.error().str();
    if (!made) return nullptr;
    EXPECT_TRUE((*made)->start());
    return std::move(*made);
  }

  // `n` readings over `sensors` sensors, one every `pace`.
  static void ingest(node::Node& node, int n, int sensors,
                     std::chrono::microseconds pace = std::chrono::microseconds(0)) {
    const std::int64_t now = systemClock().nowNs();
    for (int i = 0; i < n; ++i) {
      if (pace.count() > 0) std::this_thread::sleep_for(pace);
      Telemetry t;
      t.sensor = Symbol::intern("line/" + std::to_string(i % sensors) + "/speed");
      t.ts_ns = now - (n - i) * 1'000'000LL;
      t.values = {static_cast<double>(i % 100)};
      ASSERT_TRUE(node.ingest().ingest(std::move(t), "test"));
    }
    ASSERT_TRUE(node.ingest().sync());
  }

  Plugins plugins_;
  TempDir data_;
  TempDir code_;
  std::string script_;
};

TEST_F(ProcessNodeTest, KilledWorkersLoseNoEventAndApplyEachOnce) {
  auto node = startNode("{min: 2, max: 4}", 10);
  ASSERT_TRUE(node);
  // Metrics are process-wide: count from here.
  const auto base = node->stats();
  std::atomic<bool> done{false};
  std::atomic<int> kills{0};
  std::thread killer([&] {
    std::mt19937 rng(7);
    while (!done) {
      auto pids = processesRunning(script_);
      if (!pids.empty()) {
        ::kill(pids[rng() % pids.size()], SIGKILL);
        ++kills;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 100));
    }
  });
  constexpr int kEvents = 3000;
  ingest(*node, kEvents, 8, std::chrono::microseconds(1000));  // about 3 s of chaos
  const bool all = waitUntil([&] { return node->stats().decisions - base.decisions >= kEvents; },
                             std::chrono::seconds(120));
  done = true;
  killer.join();
  EXPECT_TRUE(all) << node->stats().decisions - base.decisions << " of " << kEvents;
  ASSERT_TRUE(node->ingest().sync());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // nothing extra arrives
  const auto stats = node->stats();
  EXPECT_EQ(stats.decisions - base.decisions,
            static_cast<std::uint64_t>(kEvents));  // none lost, none twice
  EXPECT_EQ(stats.function_errors - base.function_errors, 0U);
  EXPECT_EQ(stats.dead_letters, 0);
  EXPECT_GT(kills.load(), 5) << "the chaos did not happen";
  EXPECT_GT(metrics().counter("sie_instances_failed_total", "", {{"function", "score@1"}}).value(),
            0U);
  node->stop();
  EXPECT_TRUE(processesRunning(script_).empty());  // the node stopped its workers
}

TEST_F(ProcessNodeTest, APoolScalesToZeroWhenIdleAndBackOnTheNextEvent) {
  auto node = startNode("{min: 0, max: 2, idleTimeout: 300ms}", 0);
  ASSERT_TRUE(node);
  const auto base = node->stats();
  const auto cold =
      metrics().counter("sie_cold_starts_total", "", {{"function", "score@1"}}).value();
  EXPECT_TRUE(processesRunning(script_).empty());
  ingest(*node, 20, 2);
  ASSERT_TRUE(waitUntil([&] { return node->stats().decisions - base.decisions == 20; }));
  EXPECT_FALSE(processesRunning(script_).empty());
  EXPECT_TRUE(waitUntil([&] { return processesRunning(script_).empty(); }, std::chrono::seconds(5)))
      << "idle workers were not stopped";
  ingest(*node, 20, 2);
  ASSERT_TRUE(waitUntil([&] { return node->stats().decisions - base.decisions == 40; }));
  EXPECT_EQ(node->stats().function_errors - base.function_errors, 0U);
  EXPECT_GE(
      metrics().counter("sie_cold_starts_total", "", {{"function", "score@1"}}).value() - cold, 2U);
  node->stop();
}

// A worker talks to the node's Dapr-compatible API with plain HTTP, as a Dapr SDK would.
TEST_F(ProcessNodeTest, WorkersKeepStateAndPublishThroughTheDaprApi) {
  const std::string script = code_.file("dapr.py");
  std::ofstream(script) << R"py(#!/usr/bin/python3
import json, os, sys, urllib.request
sys.path.insert(0, os.environ["SDK"])
import sie_worker
BASE = "http://127.0.0.1:" + os.environ["DAPR_HTTP_PORT"] + "/v1.0"

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=2) as r:
        return r.status, r.read().decode()

def handle(inv):
    status, previous = call("GET", "/state/statestore/last")
    call("POST", "/state/statestore", [{"key": "last", "value": {"v": inv.value}}])
    call("POST", "/publish/plant/commands/" + inv.sensor, {"seen": inv.value})
    gone, _ = call("DELETE", "/state/statestore/never-set")
    return sie_worker.Decision(score=inv.value, detail=f"{status} {previous} {gone}")

sie_worker.serve(handle)
)py";
  chmod(script.c_str(), 0755);
  const std::string manifest =
      "apiVersion: sie/v1\nkind: Function\nmetadata: {name: keeper}\nspec:\n"
      "  runtime: process\n  handler: " +
      script +
      "\n  triggers: [\"line/#\"]\n  outputs: [{kind: decision, topic: \"decisions/{sensor}\"}]\n"
      "  process: {dapr: true, read: [\"" SIE_SOURCE_DIR
      "/sdk/python\"], env: {SDK: \"" SIE_SOURCE_DIR "/sdk/python\"}}\n";
  auto made = testing::makeNode(testing::siteWith("", ""), {{"t/functions/keeper.yaml", manifest}},
                                data_.path(), plugins_);
  ASSERT_TRUE(made) << made.error().str();
  auto& node = **made;
  std::mutex mu;
  std::vector<std::string> details, commands;
  node.bus().subscribe("decisions/#", [&](std::string_view, const Event& e) {
    std::lock_guard lock(mu);
    details.push_back(nlohmann::json::parse(e.data).value("detail", ""));
  });
  node.bus().subscribe("commands/#", [&](std::string_view topic, const Event& e) {
    std::lock_guard lock(mu);
    commands.push_back(std::string(topic) + " " + e.data);
  });
  ASSERT_TRUE(node.start());
  ingest(node, 2, 1);
  ASSERT_TRUE(waitUntil([&] {
    std::lock_guard lock(mu);
    return details.size() == 2;
  }));
  EXPECT_EQ(details[0], "204  204");  // nothing stored yet; deleting an absent key is fine
  EXPECT_EQ(details[1], "200 {\"v\":0.0} 204");
  ASSERT_EQ(commands.size(), 2U);
  EXPECT_EQ(commands[1], "commands/line/0/speed {\"seen\": 1.0}");
  // Kept in the node's state layer under the function's prefix.
  auto stored = node.state().kv().get("dapr/statestore/keeper||last");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->value_or(""), "{\"v\":1.0}");
  node.stop();
}

std::string curl(const std::string& args) {
  std::string out;
  FILE* p = popen(("curl -s -w ' %{http_code}' " + args).c_str(), "r");
  char buffer[512];
  while (p != nullptr && fgets(buffer, sizeof(buffer), p) != nullptr) out += buffer;
  if (p != nullptr) pclose(p);
  return out;
}

TEST(DaprApiTest, BadRequestsGetDaprErrors) {
  TempDir dir;
  state::EmbeddedOptions o;
  o.data_dir = dir.path();
  auto state = std::move(*state::openEmbedded(o));
  node::LocalBus bus;
  auto api = node::DaprApi::start("fn", state->kv(), bus, systemClock());
  ASSERT_TRUE(api) << api.error().str();
  const std::string base = "http://127.0.0.1:" + std::to_string((*api)->port()) + "/v1.0";
  EXPECT_THAT(curl("-d '{\"key\":1}' " + base + "/state/s"),
              ::testing::HasSubstr("ERR_MALFORMED_REQUEST"));
  EXPECT_THAT(curl("-d '[{\"value\":1}]' " + base + "/state/s"),
              ::testing::HasSubstr("non-empty string key"));
  EXPECT_THAT(curl("-d '[{\"key\":\"k\",\"value\":1,\"metadata\":{\"ttlInSeconds\":\"soon\"}}]' " +
                   base + "/state/s"),
              ::testing::HasSubstr("ttlInSeconds must be an integer from 0 to"));
  EXPECT_THAT(curl(base + "/actors/x/y"), ::testing::HasSubstr("ERR_NOT_FOUND"));
  EXPECT_THAT(curl("-X PUT " + base + "/state/s/k"), ::testing::EndsWith(" 405"));
  EXPECT_THAT(
      curl("-d '[{\"key\":\"k\",\"value\":[1,2],\"metadata\":{\"ttlInSeconds\":\"60\"}}]' " + base +
           "/state/s"),
      ::testing::EndsWith(" 204"));
  EXPECT_EQ(curl(base + "/state/s/k"), "[1,2] 200");
  EXPECT_EQ(curl("-d '{\"keys\":[\"k\",\"none\"]}' " + base + "/state/s/bulk"),
            "[{\"data\":[1,2],\"key\":\"k\"},{\"key\":\"none\"}] 200");
  EXPECT_THAT(curl(base + "/healthz"), ::testing::EndsWith(" 204"));
}

}  // namespace
}  // namespace sie
