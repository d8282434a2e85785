// lambda-echo: a minimal AWS Lambda runtime client for the benchmark. One keep-alive TCP
// connection to $AWS_LAMBDA_RUNTIME_API, no libraries: GET .../invocation/next, then POST
// .../invocation/{id}/response with a fixed decision, forever. What the Runtime API costs without
// the bash example's fork of curl per request (and without a JSON parser: the event is not read).
// ECHO_DELAY_US, when set, is work time per invocation (slept), so one instance serves a bounded
// rate (bench_burst).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kDecision =
    R"({"decision":{"score":0.5,"anomaly":false,"label":"normal","detail":"echo"}})";

bool sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool iequalsPrefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

struct Response {
  int status = 0;
  std::string request_id;
  std::string body;
};

// Reads one response (headers and a Content-Length body) from the connection; `buffer` keeps
// whatever arrived beyond it.
bool readResponse(int fd, std::string& buffer, Response& out) {
  std::size_t end;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
    char chunk[4096];
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  const std::string_view head(buffer.data(), end);
  out = {};
  std::size_t length = 0;
  std::size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    std::size_t nl = head.find("\r\n", pos);
    if (nl == std::string_view::npos) nl = head.size();
    const std::string_view line = head.substr(pos, nl - pos);
    pos = nl + 2;
    if (first) {
      first = false;
      if (line.size() > 12) out.status = std::atoi(std::string(line.substr(9, 3)).c_str());
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequalsPrefix(line, "content-length:"))
      length = std::strtoul(std::string(value).c_str(), nullptr, 10);
    if (iequalsPrefix(line, "lambda-runtime-aws-request-id:")) out.request_id = value;
  }
  buffer.erase(0, end + 4);
  while (buffer.size() < length) {
    char chunk[16384];
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  out.body = buffer.substr(0, length);
  buffer.erase(0, length);
  return true;
}

// The Runtime API is a numeric host:port (127.0.0.1:P under sie).
int connectTo(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(host_port.c_str() + colon + 1)));
  if (inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr) != 1) return -1;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

}  // namespace

int main() {
  const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
  if (api == nullptr) {
    std::fprintf(stderr, "lambda-echo: AWS_LAMBDA_RUNTIME_API is not set\n");
    return 2;
  }
  const std::string host(api);
  const int fd = connectTo(host);
  if (fd < 0) {
    std::fprintf(stderr, "lambda-echo: cannot connect to %s: %s\n", api, std::strerror(errno));
    return 2;
  }
  const std::string next = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: " + host +
                           "\r\nConnection: keep-alive\r\n\r\n";
  const std::string post_head = "Host: " + host +
                                "\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n"
                                "Content-Length: " +
                                std::to_string(kDecision.size()) + "\r\n\r\n";
  const char* delay = std::getenv("ECHO_DELAY_US");
  const useconds_t delay_us = delay != nullptr ? static_cast<useconds_t>(std::atoi(delay)) : 0;
  std::string buffer;
  Response response;
  std::string post;
  for (;;) {
    if (!sendAll(fd, next) || !readResponse(fd, buffer, response)) return 0;  // node went away
    if (response.status != 200) return response.status == 410 ? 0 : 1;        // 410: stopping
    if (delay_us > 0) usleep(delay_us);
    post = "POST /2018-06-01/runtime/invocation/" + response.request_id + "/response HTTP/1.1\r\n" +
           post_head;
    post += kDecision;
    if (!sendAll(fd, post) || !readResponse(fd, buffer, response)) return 0;
    if (response.status != 202) {
      std::fprintf(stderr, "lambda-echo: response refused (%d): %s\n", response.status,
                   response.body.c_str());
    }
  }
}
