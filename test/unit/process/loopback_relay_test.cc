#include "exec/process/loopback_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio.hpp>

namespace sie::process {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// What the relay carries connections to: an echo server on loopback, on its own thread.
class EchoServer {
 public:
  EchoServer() : acceptor_(io_, {asio::ip::address_v4::loopback(), 0}) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~EchoServer() {
    io_.stop();
    thread_.join();
  }
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    explicit Session(tcp::socket s) : socket(std::move(s)) {}
    void echo() {
      socket.async_read_some(
          asio::buffer(buffer),
          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            if (ec) return;  // EOF: the socket closes with the session
            asio::async_write(self->socket, asio::buffer(self->buffer.data(), n),
                              [self](boost::system::error_code write_ec, std::size_t) {
                                if (!write_ec) self->echo();
                              });
          });
    }
    tcp::socket socket;
    std::array<char, 256> buffer{};
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      std::make_shared<Session>(std::move(socket))->echo();
      accept();
    });
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

// A listening socket as a function's namespace would hold it, and its port.
std::pair<int, std::uint16_t> listener() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ADD_FAILURE() << "cannot listen: " << std::strerror(errno);
  }
  return {fd, ntohs(address.sin_port)};
}

// A worker's connection through the relay, with reads that give up after five seconds.
class Worker {
 public:
  explicit Worker(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    const timeval timeout{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Worker() { ::close(fd_); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // The echo of `text`, or what ended the connection instead.
  std::string roundTrip(const std::string& text) {
    if (!connected_) return "not connected";
    if (::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(text.size())) {
      return "send failed";
    }
    return receive();
  }

  // The next bytes, "EOF" when the relay closed the connection, or why nothing came.
  std::string receive() {
    char buffer[256];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) return {buffer, static_cast<std::size_t>(n)};
    if (n == 0 || errno == ECONNRESET) return "EOF";
    return std::string("recv: ") + std::strerror(errno);
  }

 private:
  int fd_;
  bool connected_ = false;
};

TEST(LoopbackRelayTest, HoldsAtMostItsCapOfConnectionsAndFreesASlotWhenOneCloses) {
  EchoServer echo;
  const auto [fd, port] = listener();
  auto relay = LoopbackRelay::start(fd, echo.port());
  ASSERT_TRUE(relay) << relay.error().str();

  std::vector<std::unique_ptr<Worker>> held;
  for (int i = 0; i < LoopbackRelay::kMaxConnections; ++i) {
    held.push_back(std::make_unique<Worker>(port));
    ASSERT_EQ(held.back()->roundTrip("ping"), "ping") << "connection " << i;
  }
  Worker refused(port);
  EXPECT_EQ(refused.roundTrip("one too many"), "EOF");

  held.front().reset();  // its pipe ends once the echo server has seen the close
  std::optional<std::string> answer;
  for (auto until = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(20ms)) {
    Worker again(port);
    answer = again.roundTrip("again");
    if (answer == "again") break;
  }
  EXPECT_EQ(answer, "again") << "a closed connection's slot was not given back";
  for (auto& worker : held) {
    if (worker) {
      EXPECT_EQ(worker->roundTrip("still"), "still");
    }
  }
}

TEST(LoopbackRelayTest, ClosesAConnectionSilentBothWaysForTheIdleTime) {
  EchoServer echo;
  const auto [fd, port] = listener();
  auto relay = LoopbackRelay::start(fd, echo.port(), 300ms);
  ASSERT_TRUE(relay) << relay.error().str();

  Worker busy(port);
  for (int i = 0; i < 8; ++i) {  // 800 ms of traffic: longer than the idle time, never silent
    ASSERT_EQ(busy.roundTrip("tick"), "tick") << "after " << i * 100 << " ms";
    std::this_thread::sleep_for(100ms);
  }
  const auto silent_from = std::chrono::steady_clock::now();
  EXPECT_EQ(busy.receive(), "EOF");  // the relay closed it, well before the 5 s read timeout
  EXPECT_LT(std::chrono::steady_clock::now() - silent_from, 4s);
}

}  // namespace
}  // namespace sie::process
