// A node with the control API on a real HTTP listener, driven by curl, for the control-plane
// integration tests.
#pragma once

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "node/node.h"
#include "servers.h"
#include "sie/plugins.h"
#include "test_node.h"

namespace sie {

inline constexpr const char* kSite = R"(apiVersion: sie/v1
kind: Site
metadata: {name: control-test}
spec:
  http: 127.0.0.1:0
  summaryInterval: 0
)";

// A site function the API may override.
inline constexpr const char* kSiteFunction = R"(apiVersion: sie/v1
kind: Function
metadata: {name: volts, version: "1"}
spec:
  runtime: builtin
  handler: threshold
  triggers: ["grid/+/voltage"]
  params: {max: 250}
)";

inline std::string thresholdManifest(const std::string& name, const std::string& version, int max) {
  return fmt::format(R"(apiVersion: sie/v1
kind: Function
metadata: {{name: {}, version: "{}"}}
spec:
  runtime: builtin
  handler: threshold
  triggers: ["rotating/+/vibration"]
  params: {{max: {}}}
)",
                     name, version, max);
}

struct Reply {
  int status = 0;
  nlohmann::json body;
  std::string text;
};

class ControlApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    ASSERT_TRUE(registerBuiltinPlugins(plugins_));
    start();
  }
  void TearDown() override {
    if (node_) node_->stop();
    // The file goes with this test's folder; later tests in the process must not reach for it.
    ::unsetenv("SIE_TOKEN_FILE");
  }

  void start() {
    auto site =
        node::parseSite({"t/site.yaml", site_text_}, {{"t/functions/volts.yaml", kSiteFunction}});
    ASSERT_TRUE(site) << site.error().str();
    site->data_dir = data_.path();
    auto made = node::Node::create(std::move(*site), plugins_);
    ASSERT_TRUE(made) << made.error().str();
    node_ = std::move(*made);
    ASSERT_TRUE(node_->start());
    // The CLI subprocesses authenticate with the node's bootstrap admin token.
    ::setenv("SIE_TOKEN_FILE", testing::adminTokenFile(data_.path()).c_str(), 1);
  }
  void restart() {
    node_->stop();
    node_.reset();
    start();
  }

  // curl METHOD path with `body` (from a file, so any bytes are fine) and extra arguments.
  Reply call(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& args = "") {
    const std::string file = data_.file(fmt::format("body-{}", files_++));
    std::ofstream(file, std::ios::binary) << body;
    const std::string out = testing::capture(
        fmt::format("curl -s -w '\\n%{{http_code}}' -X {} 'http://127.0.0.1:{}{}' {} {} {}", method,
                    node_->httpPort(), path, auth_ ? testing::adminAuth(data_.path()) : "", args,
                    body.empty() ? "" : "--data-binary @" + file));
    Reply reply;
    const std::size_t cut = out.rfind('\n');
    reply.status = std::atoi(out.c_str() + cut + 1);
    reply.text = out.substr(0, cut);
    reply.body = nlohmann::json::parse(reply.text, nullptr, false);
    return reply;
  }
  Reply deploy(const std::string& manifest) {
    return call("POST", "/api/v1/functions", manifest, "-H 'Content-Type: application/yaml'");
  }
  Reply invoke(const std::string& name, double value, const std::string& query = "") {
    return call("POST", "/api/v1/functions/" + name + "/invoke" + query,
                fmt::format(R"({{"sensor":"rotating/p1/vibration","value":{}}})", value),
                "-H 'Content-Type: application/json'");
  }

  // `sie ARGS --node URL` with stderr, and its exit code as a last line "rc=N".
  std::string sie(const std::string& args) {
    return testing::capture(fmt::format("{} {} --node http://127.0.0.1:{} 2>&1; echo \"rc=$?\"",
                                        SIE_CLI, args, node_->httpPort()));
  }

  std::string site_text_ = kSite;  // a test may change it before restart()
  bool auth_ = true;               // call() sends the admin token
  testing::TempDir data_;
  Plugins plugins_;
  std::unique_ptr<node::Node> node_;
  std::atomic<int> files_{0};  // concurrent calls write bodies to files of their own
};

}  // namespace sie
