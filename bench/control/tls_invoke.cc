// Synchronous invocations over mutual TLS 1.3 against plain HTTP, in one run: two in-process
// nodes with the same builtin function, one on plain loopback HTTP (no authentication), one with
// TLS and client certificates (an admin client certificate of a site CA made for the run).
// Clients keep their connections alive. Rounds alternate plain and TLS so that the machine's
// noise falls on both; prints per-mode p50/p99 latency (one connection, calls back to back),
// throughput (CONNECTIONS connections at once) with the node's own CPU time per call (the
// process's, less the clients' threads'), and full handshakes a second, as medians over the
// rounds, and the median of each round's TLS-to-plain ratio.
//   bench_tls_invoke [seconds=2] [connections=4] [rounds=3]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/tls.h"
#include "node/node.h"
#include "security/pki.h"
#include "sie/plugins.h"

namespace {

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

// One keep-alive connection, plain or TLS, as lean as a client can be (a blocking socket, and
// OpenSSL on it directly), so that what the figures compare is the node's work, not a client
// library's.
class Client {
 public:
  Client(std::uint16_t port, SSL_CTX* tls) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int on = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      fail("connect");
    }
    if (tls == nullptr) return;
    ssl_ = SSL_new(tls);
    SSL_set_fd(ssl_, fd_);
    if (!sie::http::expectServerName(ssl_, "127.0.0.1") || SSL_connect(ssl_) != 1) {
      fail("TLS handshake");
    }
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ::close(fd_);
  }

  void invoke() {
    static const std::string request = fmt::format(
        "POST /api/v1/functions/volts/invoke HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        std::strlen(kBody), kBody);
    if (send(request.data(), request.size()) != static_cast<long>(request.size())) fail("send");
    std::size_t header_end = std::string::npos;
    std::size_t need = 0;
    response_.clear();
    while (header_end == std::string::npos || response_.size() < need) {
      char chunk[4096];
      const long got = receive(chunk, sizeof chunk);
      if (got <= 0) fail("receive");
      response_.append(chunk, static_cast<std::size_t>(got));
      if (header_end != std::string::npos) continue;
      header_end = response_.find("\r\n\r\n");
      if (header_end == std::string::npos) continue;
      const auto length = response_.find("Content-Length: ");
      if (length == std::string::npos) fail("no Content-Length");
      need = header_end + 4 + std::strtoul(response_.c_str() + length + 16, nullptr, 10);
    }
    if (response_.compare(0, 12, "HTTP/1.1 200") != 0) {
      std::fprintf(stderr, "invoke answered: %s\n", response_.c_str());
      std::exit(1);
    }
  }

 private:
  [[noreturn]] static void fail(const char* what) {
    std::fprintf(stderr, "client: %s failed\n", what);
    std::exit(1);
  }
  long send(const char* data, std::size_t size) {
    if (ssl_ != nullptr) return SSL_write(ssl_, data, static_cast<int>(size));
    return ::send(fd_, data, size, MSG_NOSIGNAL);
  }
  long receive(char* into, std::size_t size) {
    if (ssl_ != nullptr) return SSL_read(ssl_, into, static_cast<int>(size));
    return ::recv(fd_, into, size, 0);
  }

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string response_;
};

double cpuMicroseconds(clockid_t clock) {
  timespec t{};
  ::clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

// Per round (throughput, node CPU, handshakes) or per call (latency).
struct Figures {
  std::vector<double> latency_us;
  std::vector<double> calls_per_s;
  std::vector<double> node_cpu_us_per_call;  // the process's CPU time less the clients' threads'
  std::vector<double> handshakes_per_s;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

void measure(std::uint16_t port, SSL_CTX* tls, double seconds, int connections, Figures& into) {
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
    std::atomic<double> client_cpu_us{0};
    std::vector<std::thread> threads;
    const double process_start = cpuMicroseconds(CLOCK_PROCESS_CPUTIME_ID);
    const auto end = Clock::now() + span;
    for (int i = 0; i < connections; ++i) {
      threads.emplace_back([&] {
        Client client(port, tls);
        while (Clock::now() < end) {
          client.invoke();
          ++calls;
        }
        client_cpu_us += cpuMicroseconds(CLOCK_THREAD_CPUTIME_ID);
      });
    }
    for (auto& t : threads) t.join();
    const double node_cpu_us =
        cpuMicroseconds(CLOCK_PROCESS_CPUTIME_ID) - process_start - client_cpu_us;
    into.node_cpu_us_per_call.push_back(node_cpu_us /
                                        static_cast<double>(std::max<std::uint64_t>(calls, 1)));
    into.calls_per_s.push_back(static_cast<double>(calls) / seconds);
  }
  if (tls != nullptr) {  // full handshakes: a new connection for every call
    std::uint64_t handshakes = 0;
    const auto end = Clock::now() + span;
    while (Clock::now() < end) {
      Client client(port, tls);
      client.invoke();
      ++handshakes;
    }
    into.handshakes_per_s.push_back(static_cast<double>(handshakes) / seconds);
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
  SSL_CTX_set_read_ahead(made->get(),
                         1);  // a record in one read(), not its header and then its body

  Figures plain_figures;
  Figures tls_figures;
  for (int round = 0; round < rounds; ++round) {
    measure(plain->httpPort(), nullptr, seconds, connections, plain_figures);
    measure(secure->httpPort(), made->get(), seconds, connections, tls_figures);
  }
  const auto median = [](const std::vector<double>& v) { return percentile(v, 0.5); };
  const auto report = [&](const char* mode, const Figures& f) {
    std::printf(
        "%-6s p50 %7.1f us  p99 %7.1f us  %9.0f calls/s (%d connections)  node CPU %5.1f us/call",
        mode, median(f.latency_us), percentile(f.latency_us, 0.99), median(f.calls_per_s),
        connections, median(f.node_cpu_us_per_call));
    if (!f.handshakes_per_s.empty()) {
      std::printf("  %6.0f full handshakes/s", median(f.handshakes_per_s));
    }
    std::printf("\n");
  };
  report("plain", plain_figures);
  report("mtls", tls_figures);
  // Each round's TLS figure against the plain one measured just before it, so that the machine's
  // slow and fast moments pair up.
  std::vector<double> throughput_ratio;
  std::vector<double> cpu_overhead;
  for (int round = 0; round < rounds; ++round) {
    throughput_ratio.push_back(tls_figures.calls_per_s[round] / plain_figures.calls_per_s[round]);
    cpu_overhead.push_back(tls_figures.node_cpu_us_per_call[round] -
                           plain_figures.node_cpu_us_per_call[round]);
  }
  std::printf(
      "mtls - plain (medians over %d rounds): p50 %+.1f us; throughput %.0f %% of plain; "
      "node CPU %+.1f us/call\n",
      rounds, median(tls_figures.latency_us) - median(plain_figures.latency_us),
      100.0 * median(throughput_ratio), median(cpu_overhead));
  plain->stop();
  secure->stop();
  fs::remove_all(root);
  return 0;
}
