// http::Connection, the keep-alive client of webhook sinks, against a raw socket server that
// counts its connections: requests share one connection, and one the server closed without a
// word (an idle timeout) is opened again for the next request, which is not lost.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/http_client.h"

namespace sie::http {
namespace {

// Answers each request 200 with the number of requests so far; closes a connection after
// `per_connection` answers without saying so.
class CountingServer {
 public:
  explicit CountingServer(int per_connection) : per_connection_(per_connection) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener_, 8), 0);
    socklen_t size = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~CountingServer() { stop(); }
  CountingServer(const CountingServer&) = delete;
  CountingServer& operator=(const CountingServer&) = delete;

  // Wakes the accept loop and waits for it; the listener is closed only once it has returned.
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] int accepted() const { return accepted_.load(); }

 private:
  void serve() {
    while (true) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      ++accepted_;
      for (int answered = 0; answered < per_connection_ && answerOne(fd); ++answered) {
      }
      ::close(fd);
    }
  }
  // Reads one request (headers and Content-Length body) and answers it; false at end of stream.
  bool answerOne(int fd) {
    std::string in;
    char buffer[4096];
    std::size_t end = std::string::npos;
    while ((end = in.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) return false;
      in.append(buffer, static_cast<std::size_t>(n));
    }
    std::size_t length = 0;
    if (const auto at = in.find("Content-Length: "); at != std::string::npos && at < end) {
      length = std::strtoul(in.c_str() + at + 16, nullptr, 10);
    }
    while (in.size() < end + 4 + length) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) return false;
      in.append(buffer, static_cast<std::size_t>(n));
    }
    const std::string body = std::to_string(++requests_);
    const std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body;
    return ::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size());
  }

  int per_connection_;
  int listener_ = -1;  // written before the thread starts, read-only after
  bool stopped_ = false;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  int requests_ = 0;
  std::thread thread_;
};

ClientRequest post(const std::string& body) {
  ClientRequest request;
  request.method = "POST";
  request.body = body;
  return request;
}

TEST(HttpConnectionTest, RequestsShareOneConnection) {
  CountingServer server(100);
  Connection connection(Url{false, "127.0.0.1", std::to_string(server.port()), "/in"}, nullptr,
                        std::chrono::seconds(5));
  for (int i = 1; i <= 3; ++i) {
    auto answer = connection.send(post("{\"n\":" + std::to_string(i) + "}"));
    ASSERT_TRUE(answer) << answer.error().str();
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->body, std::to_string(i));
  }
  EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpConnectionTest, AConnectionTheServerClosedIsOpenedAgainAndNoRequestIsLost) {
  CountingServer server(1);
  Connection connection(Url{false, "127.0.0.1", std::to_string(server.port()), "/in"}, nullptr,
                        std::chrono::seconds(5));
  for (int i = 1; i <= 3; ++i) {
    auto answer = connection.send(post("x"));
    ASSERT_TRUE(answer) << answer.error().str();
    EXPECT_EQ(answer->body, std::to_string(i)) << "each request answered once";
  }
  EXPECT_EQ(server.accepted(), 3);
  server.stop();
  auto refused = connection.send(post("x"));
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr("cannot connect to 127.0.0.1:"));
}

}  // namespace
}  // namespace sie::http
