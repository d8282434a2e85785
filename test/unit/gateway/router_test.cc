#include "gateway/router.h"

#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Trigger trigger(std::string_view pattern, std::uint32_t target) {
  return Trigger{*TopicPattern::parse(pattern), target};
}

std::vector<std::uint32_t> routeOf(const Router& router, std::string_view sensor) {
  return *router.route(Symbol::intern(sensor));
}

TEST(GatewayRouterTest, NoTriggersRouteNowhere) {
  Router router;
  EXPECT_THAT(routeOf(router, "r/a"), IsEmpty());
}

TEST(GatewayRouterTest, WildcardsAndDeduplication) {
  Router router;
  router.setTriggers({trigger("grid/+/voltage", 1), trigger("grid/#", 2),
                      trigger("grid/feeder1/voltage", 1), trigger("rotating/+/vibration", 3)});
  EXPECT_THAT(routeOf(router, "grid/feeder1/voltage"), ElementsAre(1, 2));
  EXPECT_THAT(routeOf(router, "grid/feeder1/current"), ElementsAre(2));
  EXPECT_THAT(routeOf(router, "grid"), ElementsAre(2));  // '#' also matches the parent
  EXPECT_THAT(routeOf(router, "rotating/p1/vibration"), ElementsAre(3));
  EXPECT_THAT(routeOf(router, "rotating/p1/x/vibration"), IsEmpty());
}

TEST(GatewayRouterTest, SetTriggersInvalidatesTheCache) {
  Router router;
  router.setTriggers({trigger("plant/+/temp", 7)});
  EXPECT_THAT(routeOf(router, "plant/l1/temp"), ElementsAre(7));
  const Router::Targets held = router.route(Symbol::intern("plant/l1/temp"));
  router.setTriggers({trigger("plant/#", 8), trigger("plant/l1/temp", 9)});
  EXPECT_THAT(routeOf(router, "plant/l1/temp"), ElementsAre(8, 9));
  EXPECT_THAT(*held, ElementsAre(7));  // an old result stays valid for its holder
  router.setTriggers({});
  EXPECT_THAT(routeOf(router, "plant/l1/temp"), IsEmpty());
}

TEST(GatewayRouterTest, ConcurrentLookupsAndUpdates) {
  Router router;
  router.setTriggers({trigger("c/#", 1)});
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (std::uint32_t i = 0; i < 200; ++i) router.setTriggers({trigger("c/#", 1 + i % 2)});
    stop = true;
  });
  std::size_t lookups = 0;
  while (!stop || lookups < 1000) {
    const auto targets = routeOf(router, "c/" + std::to_string(lookups % 50));
    ASSERT_EQ(targets.size(), 1U);
    ASSERT_TRUE(targets[0] == 1 || targets[0] == 2);
    ++lookups;
  }
  writer.join();
  EXPECT_THAT(routeOf(router, "c/1"), ElementsAre(2));
}

}  // namespace
}  // namespace sie::gateway
