// Decision rules → actions for every runtime: publish the decision, write its score to KV, send an
// actuator command event — each optionally for anomalies only.
#include <filesystem>

#include <gtest/gtest.h>

#include "fixed_executor.h"
#include "runtime/actions.h"
#include "runtime/function_runner.h"
#include "runtime/local_bus.h"
#include "sie/clock.h"
#include "state/embedded_store.h"

namespace sie::node {
namespace {

OutputRule rule(OutputRule::Kind kind, std::string target, bool only_anomalies) {
  OutputRule r;
  r.kind = kind;
  if (kind == OutputRule::Kind::kKv) {
    r.key = std::move(target);
  } else {
    r.topic = std::move(target);
  }
  r.only_anomalies = only_anomalies;
  return r;
}

TEST(OutputRulesTest, DecisionsPublishWriteKvAndSendCommands) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("sie-rules-" + std::to_string(::getpid()));
  state::EmbeddedOptions o;
  o.data_dir = dir.string();
  auto state = std::move(*state::openEmbedded(o));
  LocalBus bus;
  Actions actions(bus, state->audit(), systemClock());
  std::vector<std::pair<std::string, Event>> seen;
  bus.subscribe("#", [&](std::string_view topic, const Event& e) { seen.emplace_back(topic, e); });

  for (const double score : {0.2, 0.9}) {
    FunctionSpec spec;
    spec.name = score > 0.5 ? "hot" : "cold";
    spec.version = "1";
    spec.runtime = "fixed";
    spec.triggers = {"plant/#"};
    spec.outputs = {rule(OutputRule::Kind::kDecision, "decisions/{function}/{sensor}", false),
                    rule(OutputRule::Kind::kKv, "health/{2}/{function}", false),
                    rule(OutputRule::Kind::kEvent, "commands/{sensor}/stop", true)};
    FunctionRunner runner(
        spec, std::make_shared<testing::FixedExecutor>(score, std::chrono::milliseconds(0)), *state,
        actions);
    Event event;
    event.subject = "plant/pump1/vibration";
    event.telemetry = Telemetry{Symbol::intern(event.subject), 1'000'000'000, {0.5}};
    runner.handle(event);
  }
  EXPECT_EQ(*state->kv().get("health/pump1/cold"), std::optional<std::string>("0.2"));
  EXPECT_EQ(*state->kv().get("health/pump1/hot"), std::optional<std::string>("0.9"));
  ASSERT_EQ(seen.size(), 3u);  // two decisions, one command (anomalies only)
  EXPECT_EQ(seen[0].first, "decisions/cold/plant/pump1/vibration");
  EXPECT_EQ(seen[1].first, "decisions/hot/plant/pump1/vibration");
  EXPECT_EQ(seen[2].first, "commands/plant/pump1/vibration/stop");
  EXPECT_EQ(seen[2].second.type, kCommandType);
  EXPECT_NE(seen[2].second.data.find("\"anomaly\":true"), std::string::npos) << seen[2].second.data;
  state.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sie::node
