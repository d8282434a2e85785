// libFuzzer target: the node's whole HTTP surface from raw bytes. The input after its first byte
// is what one client sends on one connection (pipelined requests, chunked bodies, uploads, any
// framing), written to a listener of real in-process nodes: Beast's parser with the server's
// limits, the request guard, the router and every handler (control API, OpenFaaS, ingest,
// tokens, keys, artifacts) on embedded state, with builtin functions to invoke. The first byte
// picks the listener:
//   0: a node without authentication (callers are "local", admin);
//   1: a node with authentication; "@ADMIN@" anywhere in the input becomes its admin token;
//   2: the Dapr sidecar API of a function on the first node.
// Every answer must be well-framed HTTP with a status from 100 to 599, and the connection must
// end within 10 s (a streamed answer is read briefly, then left). Run it with -entropic=0
// -detect_leaks=0, as its CTest does (test/fuzz/CMakeLists.txt says why).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "exec/process/dapr_api.h"
#include "http_exchange.h"
#include "node/node.h"
#include "sie/plugins.h"

namespace {

using sie::node::SourceText;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "fuzz_http_surface: %s\n", why.c_str());
  std::abort();
}

// One dispatcher worker and short state batches keep each run quick; the rate limit stays on
// with authentication so that its 429s are reached too.
std::string siteText(bool authenticate) {
  return fmt::format(R"(apiVersion: sie/v1
kind: Site
metadata: {{name: fuzz}}
spec:
  http: 127.0.0.1:0
  summaryInterval: 0
  maxArtifactMiB: 1
  dispatcher: {{workers: 1, lanes: 2, queueCapacity: 1000, overload: dead-letter}}
  state: {{batchInterval: 1ms, memoryWindow: 64}}
  security: {{authentication: {}, callsPerSecond: {}}}
  routes:
    - match: "grid/+/voltage"
      validate: {{min: 150, max: 300, maxAge: 87600h}}
)",
                     authenticate ? "token" : "none", authenticate ? 2000 : 0);
}

// Builtin functions, so that invoke, scale, rollout and ingest paths reach a runner.
std::vector<SourceText> functionFiles() {
  return {{"fuzz/functions/volts.yaml", R"(apiVersion: sie/v1
kind: Function
metadata: {name: volts, version: "1"}
spec:
  runtime: builtin
  handler: threshold
  triggers: ["grid/+/voltage"]
  params: {max: 250}
)"},
          {"fuzz/functions/vibration.yaml", R"(apiVersion: sie/v1
kind: Function
metadata: {name: vibration, version: "1"}
spec:
  runtime: builtin
  handler: zscore
  triggers: ["rotating/+/vibration"]
  inputs:
    - {name: history, kind: window, last: 20}
  params: {threshold: 3, min_samples: 5}
)"}};
}

// The nodes and the sidecar, made on first use and stopped when the process exits.
class Surface {
 public:
  static Surface& get() {
    static Surface* const surface = new Surface();
    static const bool stopped_at_exit = std::atexit([] { delete surface; }) == 0;
    (void)stopped_at_exit;
    return *surface;
  }

  std::uint16_t port(int mode) const {
    if (mode == 0) return open_->httpPort();
    if (mode == 1) return guarded_->httpPort();
    return dapr_->port();
  }
  const std::string& adminToken() const { return admin_token_; }

 private:
  Surface() {
    // Quiet consoles; functions' log lines still reach the log endpoints.
    for (auto& sink : spdlog::default_logger()->sinks()) sink->set_level(spdlog::level::off);
    // The builtin runtime only: no worker processes are spawned by deploys.
    sie::Plugins all;
    if (auto registered = sie::registerBuiltinPlugins(all); !registered)
      die(registered.error().str());
    (void)plugins_.runtimes.add("builtin", **all.runtimes.find("builtin"));
    (void)plugins_.states.add("embedded", **all.states.find("embedded"));

    dir_ = (std::filesystem::temp_directory_path() / "sie-fuzz-http-XXXXXX").string();
    if (::mkdtemp(dir_.data()) == nullptr) die("cannot make a folder like " + dir_);
    open_ = startNode(false, dir_ + "/open");
    guarded_ = startNode(true, dir_ + "/guarded");
    std::ifstream token(dir_ + "/guarded/security/admin.token");
    std::getline(token, admin_token_);
    if (admin_token_.empty()) die("the node wrote no admin token");
    auto dapr =
        sie::node::DaprApi::start("volts", open_->state().kv(), open_->bus(), sie::systemClock());
    if (!dapr) die(dapr.error().str());
    dapr_ = std::move(*dapr);
  }

  ~Surface() {
    dapr_.reset();
    open_.reset();
    guarded_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::unique_ptr<sie::node::Node> startNode(bool authenticate, const std::string& data_dir) {
    auto site = sie::node::parseSite({"fuzz/site.yaml", siteText(authenticate)}, functionFiles());
    if (!site) die(site.error().str());
    site->data_dir = data_dir;
    auto node = sie::node::Node::create(std::move(*site), plugins_);
    if (!node) die(node.error().str());
    if (auto started = (*node)->start(); !started) die(started.error().str());
    return std::move(*node);
  }

  sie::Plugins plugins_;
  std::string dir_;
  std::unique_ptr<sie::node::Node> open_;
  std::unique_ptr<sie::node::Node> guarded_;
  std::unique_ptr<sie::node::DaprApi> dapr_;
  std::string admin_token_;
};

std::string withToken(std::string_view bytes, const std::string& token) {
  constexpr std::string_view kPlaceholder = "@ADMIN@";
  std::string out;
  for (std::size_t at = bytes.find(kPlaceholder); at != std::string_view::npos;
       at = bytes.find(kPlaceholder)) {
    out.append(bytes.substr(0, at)).append(token);
    bytes.remove_prefix(at + kPlaceholder.size());
  }
  return out.append(bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Surface& surface = Surface::get();
  const int mode = data[0] % 3;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string replaced;
  if (mode == 1) bytes = replaced = withToken(bytes, surface.adminToken());
  const sie::fuzz::Exchange result = sie::fuzz::exchange(surface.port(mode), bytes);
  if (!result.problem.empty()) die(result.problem);
  return 0;
}
