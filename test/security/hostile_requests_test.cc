// Requests built to crash the node: huge keys that fed a recursive regex, documents nested deep
// enough to overflow the stack of a recursive parser or serializer. Each gets a 400 that says
// what is wrong, and the node goes on serving.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control_fixture.h"

namespace sie {
namespace {

using ::testing::HasSubstr;

class HostileRequestsTest : public ControlApiTest {
 protected:
  void expectStillServing() {
    const Reply health = call("GET", "/healthz");
    EXPECT_EQ(health.status, 200) << health.text;
    const Reply r = deploy(thresholdManifest("after", "1", 5));
    EXPECT_EQ(r.status, 201) << r.text;
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

}  // namespace
}  // namespace sie
