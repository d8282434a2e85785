// The HTTP server's own guarantees, with real sockets: long handlers do not hold the I/O
// threads, their number is bounded, and a client that stops reading a stream is dropped.
#include "http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace sie::http {
namespace {

// curl's status code for a GET, "000" when it got no answer within `seconds`.
std::string curlStatus(std::uint16_t port, const std::string& path, int seconds = 5) {
  const std::string command =
      fmt::format("curl -s -o /dev/null -w '%{{http_code}}' --max-time {} http://127.0.0.1:{}{}",
                  seconds, port, path);
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  char buffer[64];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

class Gate {
 public:
  void open() { opened_.set_value(); }
  void wait() { shared_.wait(); }

 private:
  std::promise<void> opened_;
  std::shared_future<void> shared_ = opened_.get_future().share();
};

TEST(HttpServerTest, LongHandlersRunOffTheIoThreadAndAreBounded) {
  Gate gate;
  std::atomic<int> waiting{0};
  ServerOptions options{.threads = 1};
  options.offload = [](const HttpRequest& r) { return r.path == "/slow"; };
  options.handler_threads = 2;
  options.max_offloaded = 2;
  auto server = HttpServer::start(
      "127.0.0.1:0",
      [&](const HttpRequest& r) {
        if (r.path == "/slow") {
          ++waiting;
          gate.wait();
        }
        return HttpResponse{200, "text/plain", "ok", {}};
      },
      options);
  ASSERT_TRUE(server) << server.error().str();
  const std::uint16_t port = (*server)->port();
  std::vector<std::future<std::string>> slow;
  for (int i = 0; i < 2; ++i) {
    slow.push_back(
        std::async(std::launch::async, [port] { return curlStatus(port, "/slow", 20); }));
  }
  while (waiting < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Both long calls hold their threads; the one I/O thread still answers the others, and a
  // third long call is refused rather than queued without bound.
  EXPECT_EQ(curlStatus(port, "/fast"), "200");
  EXPECT_EQ(curlStatus(port, "/slow"), "503");
  gate.open();
  for (auto& call : slow) EXPECT_EQ(call.get(), "200");
  EXPECT_EQ(curlStatus(port, "/slow"), "200") << "room again once they finished";
  (*server)->stop();
}

TEST(HttpServerTest, AStreamToAClientThatStopsReadingEndsAfterTheWriteTimeout) {
  std::promise<std::size_t> ended;
  ServerOptions options{.threads = 1};
  options.write_timeout = std::chrono::milliseconds(200);
  auto server = HttpServer::start(
      "127.0.0.1:0",
      [&](const HttpRequest&) {
        HttpResponse response{200, "application/x-ndjson", "", {}};
        response.stream = [&](StreamWriter& writer) {
          const std::string chunk(64 * 1024, 'x');
          std::size_t sent = 0;
          while (writer.write(chunk)) sent += chunk.size();
          ended.set_value(sent);
        };
        return response;
      },
      options);
  ASSERT_TRUE(server) << server.error().str();
  // A client that asks and then never reads.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons((*server)->port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const std::string request = "GET /follow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  auto result = ended.get_future();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(20)), std::future_status::ready)
      << "the producer is still blocked on a client that reads nothing";
  EXPECT_GT(result.get(), 0U);
  (*server)->stop();  // returns: nothing waits on the client any more
  ::close(fd);
}

}  // namespace
}  // namespace sie::http
