// Connections as an attacker would spend them: thousands held idle, headers sent a byte at a time.
// The listener keeps a bounded number open, evicts the longest-idle one for a new caller, and
// cuts a header that takes too long; callers keep being served throughout.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "control_fixture.h"
#include "http/http_server.h"
#include "sie/metrics.h"

namespace sie {
namespace {

using namespace std::chrono_literals;

int connectTo(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {  // NOLINT
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the server closed `fd` (a read sees end of stream or a reset) within `wait`.
bool closedWithin(int fd, std::chrono::milliseconds wait) {
  timeval tv{static_cast<time_t>(wait.count() / 1000),
             static_cast<suseconds_t>((wait.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char byte = 0;
  const ssize_t n = ::recv(fd, &byte, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

std::string curlStatus(std::uint16_t port, const std::string& args = "") {
  return testing::capture(fmt::format(
      "curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 {} http://127.0.0.1:{}/healthz", args,
      port));
}

TEST(ConnectionLimitsTest, IdleConnectionsAreEvictedForNewCallers) {
  auto server = http::HttpServer::start("127.0.0.1:0",
                                        [](const http::HttpRequest&) {
                                          return http::HttpResponse{200, "text/plain", "ok"};
                                        },
                                        {.threads = 2, .max_connections = 8});
  ASSERT_TRUE(server) << server.error().str();
  std::vector<int> idle;
  for (int i = 0; i < 64; ++i) idle.push_back(connectTo((*server)->port()));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(curlStatus((*server)->port()), "200");
  EXPECT_LE(metrics().gauge("sie_http_connections", "").value(), 9.0);
  int evicted = 0;
  for (const int fd : idle) evicted += fd >= 0 && closedWithin(fd, 2s) ? 1 : 0;
  EXPECT_GE(evicted, 56);  // all but the cap's worth, at least
  for (const int fd : idle) ::close(fd);
  (*server)->stop();
}

TEST(ConnectionLimitsTest, ASlowLorisHeaderIsCutOffAtTheHeaderTimeout) {
  auto server = http::HttpServer::start("127.0.0.1:0",
                                        [](const http::HttpRequest&) {
                                          return http::HttpResponse{200, "text/plain", "ok"};
                                        },
                                        {.threads = 2, .header_timeout = 300ms});
  ASSERT_TRUE(server) << server.error().str();
  const int fd = connectTo((*server)->port());
  ASSERT_GE(fd, 0);
  const std::string header = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  ASSERT_EQ(::send(fd, header.data(), header.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(header.size()));
  const auto start = std::chrono::steady_clock::now();
  bool cut = false;
  for (int i = 0; i < 30 && !cut; ++i) {  // a byte every 100 ms, never finishing the header
    cut = ::send(fd, "a", 1, MSG_NOSIGNAL) != 1 || closedWithin(fd, 100ms);
  }
  EXPECT_TRUE(cut);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ::close(fd);
  EXPECT_EQ(curlStatus((*server)->port()), "200");
  (*server)->stop();
}

// 5,000 idle connections against a node: it keeps a bounded number, and its callers are served.
TEST_F(ControlApiTest, FiveThousandIdleConnectionsDoNotLockCallersOut) {
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < 12'000) {
    files.rlim_cur = std::min<rlim_t>(12'000, files.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  const int wanted = files.rlim_cur >= 12'000 ? 5000 : static_cast<int>(files.rlim_cur / 3);
  std::vector<int> idle;
  for (int i = 0; i < wanted; ++i) {
    const int fd = connectTo(node_->httpPort());
    if (fd >= 0) idle.push_back(fd);
  }
  EXPECT_GE(static_cast<int>(idle.size()), wanted * 9 / 10);
  EXPECT_EQ(curlStatus(node_->httpPort()), "200");
  const Reply status = call("GET", "/api/v1/status");
  EXPECT_EQ(status.status, 200) << status.text;
  EXPECT_LE(metrics().gauge("sie_http_connections", "").value(), 513.0);
  for (const int fd : idle) ::close(fd);
  EXPECT_EQ(call("GET", "/api/v1/status").status, 200);
}

}  // namespace
}  // namespace sie
