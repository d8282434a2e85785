// The native protocol's invocation frames as the node writes them (exec/process/wire.h) and the
// C++ worker SDK reads them (sdk/cpp/include/sie/worker.h).
#include "exec/process/wire.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sie/worker.h>
#include <nlohmann/json.hpp>

namespace sie {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class WireTest : public ::testing::Test {
 protected:
  WireTest() {
    event_.id = "ev-7";
    reading_.sensor = Symbol::intern("rotating/pump1/bearing_temp");
    reading_.ts_ns = 1'700'000'000'000'000'000;
    reading_.values = {55.5};
    windows_["history"] = {{reading_.ts_ns - 2'000, {40.25}}, {reading_.ts_ns - 1'000, {-1e300}}};
    windows_["empty"] = {};
    windows_["spectrum"] = {{reading_.ts_ns - 1'000, {1.0, 2.0, 3.0}}};  // a block: stays JSON
    values_["limit"] = 80.0;
    spec_.name = "pump-rule";
    spec_.version = "3";
    spec_.params["rise_limit"] = 8.0;
  }

  [[nodiscard]] Invocation call() const { return {event_, reading_, windows_, values_, spec_}; }

  Event event_;
  Telemetry reading_;
  std::map<std::string, std::vector<Sample>, std::less<>> windows_;
  std::map<std::string, double, std::less<>> values_;
  FunctionSpec spec_;
};

TEST_F(WireTest, BinaryFramesCarryTheSameInvocationAsJson) {
  const std::string frame = process::invocationFrame(call(), 123);
  const auto binary = worker::parseInvocation('B', frame);
  const auto json = worker::parseInvocation('I', process::invocationJson(call(), 123));

  for (const char* name : {"history", "empty", "spectrum"}) {
    EXPECT_EQ(binary.window(name).ts, json.window(name).ts) << name;
    EXPECT_EQ(binary.window(name).value, json.window(name).value) << name;
  }
  EXPECT_THAT(binary.window("history").ts,
              ElementsAre(reading_.ts_ns - 2'000, reading_.ts_ns - 1'000));
  EXPECT_THAT(binary.window("history").value, ElementsAre(40.25, -1e300));
  EXPECT_EQ(binary.window("spectrum").size(), 1U);
  EXPECT_EQ(binary.value(), 55.5);
  EXPECT_EQ(binary.param("rise_limit"), 8.0);
  EXPECT_EQ(binary.kv("limit"), 80.0);

  // Only the block window is left in the frame's JSON; the others are in binary after it.
  nlohmann::json doc = binary.json();
  EXPECT_EQ(doc["windows"].size(), 1U);
  EXPECT_TRUE(doc["windows"].contains("spectrum"));
  doc["windows"] = json.json()["windows"];
  EXPECT_EQ(doc, json.json());
}

TEST_F(WireTest, ATruncatedFrameIsAnErrorThatSaysWhereItEnds) {
  const std::string frame = process::invocationFrame(call(), 123);
  std::uint32_t json_bytes = 0;
  std::memcpy(&json_bytes, frame.data(), sizeof(json_bytes));
  // Cuts inside the length, the JSON, a name, the timestamps and the values. The binary windows
  // in name order: "empty" (2 + 5 + 4 bytes), then "history" (2 + 7 + 4 + 2 × 8 + 2 × 8).
  const std::vector<std::pair<std::size_t, std::string>> cuts = {
      {2, "its JSON length"},
      {4 + json_bytes / 2, "its JSON"},
      {4 + json_bytes + 2 + 3, "a window's name"},
      {4 + json_bytes + 11 + 13 + 5, "a window's timestamps"},
      {frame.size() - 1, "a window's values"}};
  for (const auto& [size, where] : cuts) {
    try {
      (void)worker::parseInvocation('B', std::string_view(frame).substr(0, size));
      ADD_FAILURE() << "a frame cut at " << size << " parsed";
    } catch (const std::runtime_error& e) {
      EXPECT_THAT(e.what(), HasSubstr(where)) << size;
    } catch (const nlohmann::json::exception& e) {
      EXPECT_EQ(where, "its JSON") << e.what();
    }
  }
}

TEST(WireResultTest, KvTtlsOutsideZeroToAHundredYearsAreRefused) {
  auto kept = process::parseResult(R"({"kv": [{"key": "k", "value": 1, "ttlMs": 60000}]})");
  ASSERT_TRUE(kept) << kept.error().str();
  EXPECT_EQ(kept->kv_writes.at(0).ttl, std::chrono::minutes(1));
  // The state adds a TTL to the clock in nanoseconds: this one overflowed it (a fuzzer found it).
  for (const char* ttl : {"9223372036854775807", "3153600000001", "-1", "6e30", "\"1\""}) {
    auto refused =
        process::parseResult(fmt::format(R"({{"kv": [{{"key": "k", "ttlMs": {}}}]}})", ttl));
    ASSERT_FALSE(refused) << ttl;
    EXPECT_THAT(refused.error().message, HasSubstr("kv[].ttlMs must be a number from 0 to")) << ttl;
  }
}

}  // namespace
}  // namespace sie
