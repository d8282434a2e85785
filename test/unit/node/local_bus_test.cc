#include "runtime/local_bus.h"

#include <gtest/gtest.h>

namespace sie::node {
namespace {

TEST(LocalBusTest, DeliversToMatchingSubscribersUntilUnsubscribed) {
  LocalBus bus;
  std::vector<std::string> all, pumps;
  bus.subscribe("decisions/#",
                [&](std::string_view topic, const Event&) { all.emplace_back(topic); });
  const auto id =
      bus.subscribe("decisions/+/rotating/#",
                    [&](std::string_view topic, const Event&) { pumps.emplace_back(topic); });
  Event e;
  bus.publish("decisions/pump/rotating/pump1/vibration", e);
  bus.publish("decisions/grid/grid/feeder1/voltage", e);
  bus.publish("telemetry/x", e);
  bus.unsubscribe(id);
  bus.publish("decisions/pump/rotating/pump2/vibration", e);
  EXPECT_EQ(all.size(), 3u);
  ASSERT_EQ(pumps.size(), 1u);
  EXPECT_EQ(pumps[0], "decisions/pump/rotating/pump1/vibration");
  EXPECT_EQ(bus.subscribe("bad/#/pattern", [](std::string_view, const Event&) {}), 0u);
}

}  // namespace
}  // namespace sie::node
