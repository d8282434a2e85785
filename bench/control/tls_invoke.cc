// Synchronous invocations over mutual TLS 1.3 against plain HTTP, in one run: two in-process
// nodes with the same builtin function, one on plain loopback HTTP (no authentication), one with
// TLS and client certificates (an admin client certificate of a site CA made for the run).
// Clients keep their connections alive. Rounds alternate plain and TLS so that the machine's
// noise falls on both; prints per-mode p50/p99 latency (one connection, calls back to back),
// throughput (CONNECTIONS connections at once), and full handshakes a second.
//   bench_tls_invoke [seconds=2] [connections=4] [rounds=3]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "http/tls.h"
#include "node/node.h"
#include "security/pki.h"
#include "sie/plugins.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kFunction = R"(apiVersion: sie/v1
kind: Function
metadata: {name: volts, version: "1"}
spec:
  runtime: builtin
  handler: threshold
  triggers: ["grid/+/voltage"]
  params: {max: 250}
)";
constexpr const char* kBody = R"({"sensor":"grid/f1/voltage","value":260})";

struct Files {
  std::string ca, cert, key;
};

std::unique_ptr<sie::node::Node> startNode(const std::string& security, const std::string& data,
                                           const sie::Plugins& plugins) {
  const std::string site = fmt::format(
      "apiVersion: sie/v1\nkind: Site\nspec:\n  http: 127.0.0.1:0\n  summaryInterval: 0\n"
      "  security:\n    callsPerSecond: 0\n{}",
      security);
  auto parsed =
      sie::node::parseSite({"bench/site.yaml", site}, {{"bench/functions/volts.yaml", kFunction}});
  if (!parsed) throw std::runtime_error(parsed.error().str());
  parsed->data_dir = data;
  auto node = sie::node::Node::create(std::move(*parsed), plugins);
  if (!node) throw std::runtime_error(node.error().str());
  if (auto started = (*node)->start(); !started) throw std::runtime_error(started.error().str());
  return std::move(*node);
}

// One keep-alive connection, plain or TLS.
class Client {
 public:
  Client(std::uint16_t port, asio::ssl::context* tls) : port_(port), tls_(tls) { connect(); }

  void connect() {
    beast::tcp_stream tcp(io_);
    tcp.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    tcp.socket().set_option(asio::ip::tcp::no_delay(true));
    if (tls_ == nullptr) {
      plain_.emplace(std::move(tcp));
      return;
    }
    secure_.emplace(std::move(tcp), *tls_);
    if (!sie::http::expectServerName(secure_->native_handle(), "127.0.0.1")) std::abort();
    secure_->handshake(asio::ssl::stream_base::client);
  }

  void invoke() {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/api/v1/functions/volts/invoke", 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::content_type, "application/json");
    req.body() = kBody;
    req.prepare_payload();
    bhttp::response<bhttp::string_body> res;
    beast::flat_buffer buffer;
    if (secure_) {
      bhttp::write(*secure_, req);
      bhttp::read(*secure_, buffer, res);
    } else {
      bhttp::write(*plain_, req);
      bhttp::read(*plain_, buffer, res);
    }
    if (res.result_int() != 200) {
      std::fprintf(stderr, "invoke answered %u: %s\n", res.result_int(), res.body().c_str());
      std::exit(1);
    }
  }

 private:
  asio::io_context io_;
  std::uint16_t port_;
  asio::ssl::context* tls_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
};

struct Figures {
  std::vector<double> latency_us;
  double calls_per_s = 0;
  double handshakes_per_s = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

void measure(std::uint16_t port, asio::ssl::context* tls, double seconds, int connections,
             Figures& into) {
  const auto span = std::chrono::duration<double>(seconds);
  {  // latency: one connection, calls back to back
    Client client(port, tls);
    const auto end = Clock::now() + span;
    while (Clock::now() < end) {
      const auto start = Clock::now();
      client.invoke();
      into.latency_us.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
  }
  {  // throughput: `connections` at once
    std::atomic<std::uint64_t> calls{0};
    std::vector<std::thread> threads;
    const auto end = Clock::now() + span;
    for (int i = 0; i < connections; ++i) {
      threads.emplace_back([&] {
        Client client(port, tls);
        while (Clock::now() < end) {
          client.invoke();
          ++calls;
        }
      });
    }
    for (auto& t : threads) t.join();
    into.calls_per_s += static_cast<double>(calls) / seconds;
  }
  if (tls != nullptr) {  // full handshakes: a new connection for every call
    std::uint64_t handshakes = 0;
    const auto end = Clock::now() + span;
    while (Clock::now() < end) {
      Client client(port, tls);
      client.invoke();
      ++handshakes;
    }
    into.handshakes_per_s += static_cast<double>(handshakes) / seconds;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const int connections = argc > 2 ? std::atoi(argv[2]) : 4;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  spdlog::set_level(spdlog::level::warn);
  sie::Plugins plugins;
  if (!sie::registerBuiltinPlugins(plugins)) return 1;
  const fs::path root = fs::temp_directory_path() / fmt::format("sie-bench-tls-{}", ::getpid());
  fs::remove_all(root);
  auto ca = sie::security::SiteCa::init((root / "pki").string(), "bench",
                                        sie::security::KeyType::kEcdsaP256, std::chrono::hours(24));
  if (!ca) return std::fprintf(stderr, "%s\n", ca.error().str().c_str()), 1;
  auto node_id = ca->issue({.kind = sie::security::IdentityKind::kNode, .name = "edge"});
  auto client_id = ca->issue({.kind = sie::security::IdentityKind::kClient,
                              .name = "bench",
                              .role = sie::security::Role::kAdmin});
  if (!node_id || !client_id) return 1;

  auto plain = startNode("    authentication: none\n", (root / "plain").string(), plugins);
  auto secure = startNode(fmt::format("    tls: {{certFile: {}, keyFile: {}, caFile: {}}}\n",
                                      node_id->cert_file, node_id->key_file, ca->caFile()),
                          (root / "tls").string(), plugins);
  auto made = sie::http::makeClientTls({.ca_file = ca->caFile(),
                                        .cert_file = client_id->cert_file,
                                        .key_file = client_id->key_file});
  if (!made) return std::fprintf(stderr, "%s\n", made.error().str().c_str()), 1;
  asio::ssl::context tls(made->release());

  Figures plain_figures;
  Figures tls_figures;
  for (int round = 0; round < rounds; ++round) {
    measure(plain->httpPort(), nullptr, seconds, connections, plain_figures);
    measure(secure->httpPort(), &tls, seconds, connections, tls_figures);
  }
  const auto report = [&](const char* mode, const Figures& f) {
    std::printf("%-6s p50 %7.1f us  p99 %7.1f us  %9.0f calls/s (%d connections)", mode,
                percentile(f.latency_us, 0.5), percentile(f.latency_us, 0.99),
                f.calls_per_s / rounds, connections);
    if (f.handshakes_per_s > 0) {
      std::printf("  %6.0f full handshakes/s", f.handshakes_per_s / rounds);
    }
    std::printf("\n");
  };
  report("plain", plain_figures);
  report("mtls", tls_figures);
  std::printf("mtls - plain: p50 %+.1f us; throughput %.0f %% of plain\n",
              percentile(tls_figures.latency_us, 0.5) - percentile(plain_figures.latency_us, 0.5),
              100.0 * tls_figures.calls_per_s / plain_figures.calls_per_s);
  plain->stop();
  secure->stop();
  fs::remove_all(root);
  return 0;
}
