#include "exec/process/loopback_relay.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <boost/asio.hpp>

namespace sie::process {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

constexpr std::size_t kBufferBytes = 16 * 1024;
constexpr auto kAcceptRetry = std::chrono::milliseconds(50);

// One relayed connection, bytes copied both ways. An end's EOF is passed on as a half-close;
// the pair closes once both directions ended (no handler holds it any more), either failed, or
// nothing moved either way for `idle` (a slot a worker holds open and silent is given back).
class Pipe : public std::enable_shared_from_this<Pipe> {
 public:
  Pipe(tcp::socket inside, int& active, std::chrono::milliseconds idle)
      : inside_(std::move(inside)),
        outside_(inside_.get_executor()),
        idle_timer_(inside_.get_executor()),
        idle_(idle),
        active_(active) {
    ++active_;
  }
  ~Pipe() { --active_; }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  void start(std::uint16_t port) {
    outside_.async_connect({asio::ip::address_v4::loopback(), port},
                           [self = shared_from_this()](error_code ec) {
                             if (ec) return;  // the worker's connection closes with the pipe
                             self->moved_ = Clock::now();
                             self->watchIdle(self->idle_);
                             self->copy(self->inside_, self->outside_, self->to_node_);
                             self->copy(self->outside_, self->inside_, self->to_worker_);
                           });
  }

 private:
  using Buffer = std::array<char, kBufferBytes>;
  using Clock = std::chrono::steady_clock;

  // Checks for silence once per `idle` at most, not on every read: the timer holds no reference,
  // so a pipe whose copies ended goes at once.
  void watchIdle(Clock::duration after) {
    idle_timer_.expires_after(after);
    idle_timer_.async_wait([weak = weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      const auto silent = Clock::now() - self->moved_;
      if (silent >= self->idle_) return self->close();
      self->watchIdle(self->idle_ - silent);
    });
  }

  void copy(tcp::socket& from, tcp::socket& to, Buffer& buffer) {
    from.async_read_some(asio::buffer(buffer), [self = shared_from_this(), &from, &to, &buffer](
                                                   error_code ec, std::size_t n) {
      if (ec == asio::error::eof) {
        error_code ignored;
        to.shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      if (ec) return self->close();
      self->moved_ = Clock::now();
      asio::async_write(to, asio::buffer(buffer.data(), n),
                        [self, &from, &to, &buffer](error_code write_ec, std::size_t) {
                          if (write_ec) return self->close();
                          self->copy(from, to, buffer);
                        });
    });
  }

  void close() {
    error_code ignored;
    inside_.close(ignored);
    outside_.close(ignored);
    idle_timer_.cancel();
  }

  tcp::socket inside_;
  tcp::socket outside_;
  asio::steady_timer idle_timer_;
  std::chrono::milliseconds idle_;
  Clock::time_point moved_;  // when bytes last went either way
  Buffer to_node_{};
  Buffer to_worker_{};
  int& active_;  // the relay's count, touched on its one thread only
};

}  // namespace

struct LoopbackRelay::Loop {
  int active = 0;  // destroyed after io, whose pending pipes decrement it
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer retry{io};
  std::uint16_t port = 0;
  std::chrono::milliseconds idle{};
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {  // out of descriptors, say: pause instead of spinning
        retry.expires_after(kAcceptRetry);
        retry.async_wait([this](error_code wait_ec) {
          if (!wait_ec) accept();
        });
        return;
      }
      if (active < kMaxConnections) {
        std::make_shared<Pipe>(std::move(socket), active, idle)->start(port);
      }
      accept();
    });
  }
};

LoopbackRelay::LoopbackRelay(std::unique_ptr<Loop> loop) : loop_(std::move(loop)) {}

LoopbackRelay::~LoopbackRelay() {
  loop_->io.stop();
  if (loop_->thread.joinable()) loop_->thread.join();
}

Result<std::unique_ptr<LoopbackRelay>> LoopbackRelay::start(int listener, std::uint16_t port,
                                                            std::chrono::milliseconds idle) {
  auto loop = std::make_unique<Loop>();
  loop->port = port;
  loop->idle = idle;
  error_code ec;
  loop->acceptor.assign(tcp::v4(), listener, ec);
  if (ec) {
    ::close(listener);
    return fail(Errc::kIo, fmt::format("cannot relay port {}: {}", port, ec.message()));
  }
  loop->accept();
  Loop* running = loop.get();
  loop->thread = std::thread([running] { running->io.run(); });
  return std::unique_ptr<LoopbackRelay>(new LoopbackRelay(std::move(loop)));
}

}  // namespace sie::process
