#include "http_exchange.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

namespace sie::fuzz {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using Clock = std::chrono::steady_clock;

// A body that is counted, not kept: a Content-Length of any size costs nothing.
struct DiscardBody {
  using value_type = std::uint64_t;

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(bhttp::header<isRequest, Fields>& /*header*/, value_type& seen) : seen_(seen) {}
    void init(const boost::optional<std::uint64_t>& /*length*/, beast::error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      ec = {};
      const std::size_t n = boost::asio::buffer_size(buffers);
      seen_ += n;
      return n;
    }
    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& seen_;
  };
};

template <class Parser>
void unlimited(Parser& parser) {
  parser.header_limit(std::numeric_limits<std::uint32_t>::max());
  // Not boost::none: Beast 1.74 then refuses every Content-Length (optional's comparison).
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.eager(true);
}

// For each request in `bytes` whose header parses, in order: whether it is a HEAD (its answer
// has no body).
std::vector<bool> headRequests(std::string_view bytes) {
  std::vector<bool> out;
  while (!bytes.empty()) {
    bhttp::request_parser<DiscardBody> parser;
    unlimited(parser);
    beast::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done() && used < bytes.size()) {
      const std::size_t n =
          parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
      used += n;
      if (ec || n == 0) break;
    }
    if (parser.is_header_done()) out.push_back(parser.get().method() == bhttp::verb::head);
    if (!parser.is_done()) break;
    bytes.remove_prefix(used);
  }
  return out;
}

// Parses the answers as they arrive.
class AnswerReader {
 public:
  AnswerReader(std::vector<bool> head, Exchange& out) : head_(std::move(head)), out_(out) {}

  void feed(std::string_view data) {
    pending_.append(data);
    while (!closed_ && !pending_.empty() && out_.problem.empty()) {
      if (!parser_) {
        parser_.emplace();
        unlimited(*parser_);
        if (answered_ < head_.size() && head_[answered_]) parser_->skip(true);
      }
      beast::error_code ec;
      const std::size_t n = parser_->put(boost::asio::buffer(pending_), ec);
      pending_.erase(0, n);
      if (parser_->is_header_done() && parser_->chunked()) streaming_ = true;
      if (ec == bhttp::error::need_more) return;
      if (ec) {
        out_.problem =
            fmt::format("answer {} is not HTTP: {}", out_.statuses.size() + 1, ec.message());
        return;
      }
      if (!parser_->is_done()) {
        if (n == 0) return;
        continue;
      }
      finish();
    }
  }

  // The connection ended; `reset`: by the server, which may drop what it had not sent yet.
  void end(bool reset) {
    if (closed_ || reset || streaming_ || !out_.problem.empty()) return;
    if (parser_ || !pending_.empty()) {
      out_.problem = fmt::format("answer {} is cut short", out_.statuses.size() + 1);
    }
  }

  // A streamed (chunked) answer has begun: it lasts as long as the client listens.
  [[nodiscard]] bool streaming() const { return streaming_; }

 private:
  void finish() {
    const auto& answer = parser_->get();
    const int status = static_cast<int>(answer.result_int());
    out_.statuses.push_back(status);
    if (status < 100 || status > 599) {
      out_.problem = fmt::format("answer {} has status {}", out_.statuses.size(), status);
    }
    if (status >= 200) ++answered_;
    // After an answer that closes the connection nothing counts: the server may not have been
    // able to tell that the request it refused was a HEAD.
    closed_ = !answer.keep_alive();
    streaming_ = false;
    parser_.reset();
  }

  const std::vector<bool> head_;
  Exchange& out_;
  std::optional<bhttp::response_parser<DiscardBody>> parser_;
  std::string pending_;
  std::size_t answered_ = 0;  // final (non-1xx) answers so far
  bool closed_ = false;
  bool streaming_ = false;
};

// A non-blocking connection to 127.0.0.1:port, or -1 with out.problem set. Signals (libFuzzer's
// timers) may interrupt the connect; it goes on in the background, so wait for it.
int connectTo(std::uint16_t port, Clock::time_point deadline, Exchange& out) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int error = fd < 0 ? errno : 0;
  if (error == 0 &&
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    error = errno;
  }
  while (error == EINPROGRESS || error == EINTR) {
    pollfd p{fd, POLLOUT, 0};
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (wait.count() <= 0) {
      error = ETIMEDOUT;
      break;
    }
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) continue;
    socklen_t size = sizeof(error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
  }
  if (error == 0) return fd;
  out.problem = fmt::format("cannot connect to 127.0.0.1:{}: {}", port, std::strerror(error));
  if (fd >= 0) ::close(fd);
  return -1;
}

}  // namespace

Exchange exchange(std::uint16_t port, std::string_view bytes, const ExchangeOptions& options) {
  Exchange out;
  AnswerReader answers(headRequests(bytes), out);
  const auto deadline = Clock::now() + options.deadline;
  const int fd = connectTo(port, deadline, out);
  if (fd < 0) return out;
  std::optional<Clock::time_point> stream_end;
  std::size_t sent = 0;
  bool writing = true;
  bool reset = false;
  if (bytes.empty()) {
    ::shutdown(fd, SHUT_WR);
    writing = false;
  }
  char buffer[64 * 1024];
  for (;;) {
    const auto now = Clock::now();
    if (answers.streaming() && !stream_end) stream_end = now + options.stream_read;
    if (stream_end && now >= *stream_end) break;
    if (now >= deadline) {
      out.problem = fmt::format("no end of the answers within {} ms", options.deadline.count());
      break;
    }
    const auto until = stream_end ? std::min(*stream_end, deadline) : deadline;
    pollfd p{fd, static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0};
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
    if (::poll(&p, 1, static_cast<int>(wait)) <= 0) continue;
    if (writing && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
      // A server that answered and closed reads no further: the rest is not sent.
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || sent == bytes.size()) {
        ::shutdown(fd, SHUT_WR);
        writing = false;
      }
    }
    if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n > 0) {
        answers.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
        if (!out.problem.empty()) break;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      reset = n < 0;
      answers.end(reset);
      break;
    }
  }
  ::close(fd);
  return out;
}

}  // namespace sie::fuzz
