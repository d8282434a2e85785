// Requests built to crash the node: huge keys that fed a recursive regex, documents nested deep
// enough to overflow the stack of a recursive parser or serializer, bytes that are not UTF-8
// where an answer quotes them, numbers too large for a clock. Each gets an answer that says what
// is wrong, and the node goes on serving.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control_fixture.h"
#include "exec/process/dapr_api.h"

namespace sie {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Sends `bytes` on one connection to 127.0.0.1:port and closes the write side; returns what came
// back until the server closed the connection (5 s at most).
std::string rawExchange(std::uint16_t port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {  // NOLINT
    if (fd >= 0) ::close(fd);
    return {};
  }
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

class HostileRequestsTest : public ControlApiTest {
 protected:
  void expectStillServing() {
    const Reply health = call("GET", "/healthz");
    EXPECT_EQ(health.status, 200) << health.text;
    const Reply r = deploy(thresholdManifest("after", "1", 5));
    EXPECT_EQ(r.status, 201) << r.text;
  }

  // A request's head with the admin token, ending in the blank line.
  std::string head(const std::string& request_line, const std::string& headers = "") {
    std::ifstream file(testing::adminTokenFile(data_.path()));
    std::string token;
    std::getline(file, token);
    return request_line + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
           "\r\n" + headers + "\r\n";
  }
};

TEST_F(HostileRequestsTest, AManifestKeyOf200000CharactersIsRefused) {
  // An explicit key ("? KEY"): YAML caps implicit keys at 1024 characters, not these.
  const std::string key(200'000, 'k');
  const Reply r = deploy(thresholdManifest("long", "1", 5) + "  ? " + key + "\n  : 1\n");
  ASSERT_EQ(r.status, 400) << r.text.substr(0, 300);
  EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("unknown key"));
  expectStillServing();
}

TEST_F(HostileRequestsTest, JsonNested10000DeepIsRefusedOnEveryJsonRoute) {
  const std::string deep = std::string(10'000, '[') + std::string(10'000, ']');
  const std::string field = R"({"service":"deep","image":"builtin:threshold","labels":)" +
                            std::string(10'000, '[') + std::string(10'000, ']') + "}";
  for (const auto& [method, path, body] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"POST", "/system/functions", field},
           {"POST", "/system/functions", deep},
           {"DELETE", "/system/functions", deep},
           {"POST", "/system/scale-function/volts", deep},
           {"POST", "/api/v1/functions/volts/scale", deep},
           {"POST", "/api/v1/functions/volts/rollout", deep},
           {"POST", "/api/v1/functions/volts/rollout/switch", deep}}) {
    SCOPED_TRACE(method + " " + path);
    const Reply r = call(method, path, body, "-H 'Content-Type: application/json'");
    EXPECT_EQ(r.status, 400) << r.text.substr(0, 300);
  }
  const Reply r = call("POST", "/system/functions", field, "-H 'Content-Type: application/json'");
  EXPECT_THAT(r.text, HasSubstr("nested deeper than 64 levels"));
  expectStillServing();
}

TEST_F(HostileRequestsTest, AManifestNested10000DeepIsRefused) {
  const std::string deep = thresholdManifest("deep", "1", 5) +
                           "  labels: " + std::string(10'000, '[') + std::string(10'000, ']') +
                           "\n";
  const Reply r = deploy(deep);
  EXPECT_EQ(r.status, 400) << r.text.substr(0, 300);
  expectStillServing();
}

TEST_F(HostileRequestsTest, NumbersTooLargeForTheirFieldsAreRefused) {
  // Converting 1e300 to an int is undefined behaviour; 2^32 + 1 wrapped around to 1.
  const Reply weight =
      call("POST", "/api/v1/functions?strategy=canary&weight=1e300",
           thresholdManifest("volts", "2", 5), "-H 'Content-Type: application/yaml'");
  EXPECT_EQ(weight.status, 400) << weight.text;
  EXPECT_THAT(weight.text, HasSubstr("'weight' must be a number"));
  const Reply scale = call("POST", "/api/v1/functions/volts/scale", R"({"max": 4294967297})",
                           "-H 'Content-Type: application/json'");
  EXPECT_EQ(scale.status, 400) << scale.text;
  EXPECT_THAT(scale.text, HasSubstr("'max' must be a whole number"));
  expectStillServing();
}

TEST_F(HostileRequestsTest, APathThatIsNotUtf8IsQuotedWithReplacementCharacters) {
  // The 404 quotes the path; serializing its 0xE9 threw, and the exception ended the node.
  const std::string answer =
      rawExchange(node_->httpPort(), head("GET /caf\xe9", "Connection: close\r\n"));
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(answer, HasSubstr("/caf\xef\xbf\xbd"));
  expectStillServing();
}

TEST_F(HostileRequestsTest, ATriggerThatIsNotUtf8DoesNotEndTheNodeWhenListed) {
  std::string manifest = thresholdManifest("odd", "1", 5);
  manifest.replace(manifest.find("rotating/+"), 8, "rotating\xff");
  const Reply deployed = deploy(manifest);
  ASSERT_EQ(deployed.status, 201) << deployed.text;
  const Reply status = call("GET", "/api/v1/status");
  EXPECT_EQ(status.status, 200) << status.text;
  EXPECT_THAT(status.text, HasSubstr("rotating\xef\xbf\xbd/+/vibration"));
  expectStillServing();
}

TEST_F(HostileRequestsTest, AnUploadNameThatIsNotUtf8DoesNotEndTheNodeInTheAudit) {
  const std::string answer = rawExchange(
      node_->httpPort(),
      head("PUT /api/v1/artifacts/caf\xe9.bin", "Content-Length: 4\r\nConnection: close\r\n") +
          "data");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 201"));
  const Reply audit = call("GET", "/api/v1/audit?limit=5");
  EXPECT_THAT(audit.text, HasSubstr("caf\xef\xbf\xbd.bin"));
  expectStillServing();
}

TEST_F(HostileRequestsTest, ABinaryCloudEventsContentTypeThatIsNotUtf8GetsA415) {
  const std::string answer =
      rawExchange(node_->httpPort(), head("POST /api/v1/events",
                                          "Content-Type: text/\xff\r\nce-specversion: 1.0\r\n"
                                          "Content-Length: 2\r\nConnection: close\r\n") +
                                         "{}");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 415"));
  expectStillServing();
}

TEST_F(HostileRequestsTest, TheAnswerToHeadHasNoBody) {
  // A body after it was read as the start of the next answer on the connection.
  const std::string answer =
      rawExchange(node_->httpPort(),
                  head("HEAD /api/v1/status") + head("GET /healthz", "Connection: close\r\n"));
  const std::size_t end = answer.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << answer;
  EXPECT_THAT(answer.substr(0, end), StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(answer.substr(end + 4), StartsWith("HTTP/1.1 200")) << answer;
}

TEST_F(HostileRequestsTest, TheDaprSidecarRefusesTtlsBeyondAHundredYearsAndAnyPath) {
  auto dapr = node::DaprApi::start("volts", node_->state().kv(), node_->bus(), systemClock());
  ASSERT_TRUE(dapr) << dapr.error().str();
  // Seconds to milliseconds to nanoseconds overflowed int64 on the way to the state.
  const std::string items =
      R"([{"key": "k", "value": 1, "metadata": {"ttlInSeconds": "9223372036854775807"}}])";
  const std::string save = fmt::format(
      "POST /v1.0/state/store HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
      "application/json\r\nContent-Length: {}\r\n\r\n{}",
      items.size(), items);
  const std::string answer =
      rawExchange((*dapr)->port(),
                  save + "GET /v1.0/\xff HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(answer, HasSubstr("ttlInSeconds must be an integer from 0 to 3153600000"));
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 404"));
  EXPECT_THAT(answer, HasSubstr("unknown route /v1.0/\xef\xbf\xbd"));
}

}  // namespace
}  // namespace sie
