#include "privacy/event_filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "privacy/private_bus.h"

namespace sie::privacy {
namespace {

using json = nlohmann::json;

std::shared_ptr<const RuleSet> rules() {
  auto badge = parseFieldPath("tags.badge");
  std::vector<Rule> list;
  for (const char* yaml : {"{field: tags.badge, action: pseudonymize}",
                           "{field: sensor, action: pseudonymize, length: 8}",
                           "{field: ts_ns, action: generalize, period: 1h}"}) {
    list.push_back(*parseRule(YAML::Load(yaml), "site.yaml"));
  }
  auto key = std::make_shared<Pseudonymizer>(*Pseudonymizer::fromKey(std::string(32, 'k'), ""));
  return std::make_shared<RuleSet>(std::move(list), std::vector<FieldPath>{*badge}, key);
}

Event decisionEvent() {
  Event event;
  event.id = "d-1";
  event.type = "io.sie.decision";
  event.subject = "door1/badge-B-1234";
  event.time_ns = 1700000123456789000;
  event.data = R"({"sensor":"door1/badge-B-1234","ts_ns":1700000123456789000,"value":1,)"
               R"("tags":{"badge":"B-1234","line":"l1"}})";
  event.tags = {{"badge", "B-1234"}, {"line", "l1"}};
  return event;
}

TEST(EventFilterTest, DataTagsSubjectTopicAndTimeAreAllCovered) {
  const auto set = rules();
  const Filtered out = filterEvent(*set, "decisions/door1/badge-B-1234", decisionEvent());
  ASSERT_TRUE(out.event);
  const Event& event = *out.event;
  EXPECT_EQ(event.data.find("B-1234"), std::string::npos) << event.data;
  EXPECT_EQ(out.topic.find("B-1234"), std::string::npos) << out.topic;
  EXPECT_EQ(event.subject.size(), 8U);
  EXPECT_EQ(out.topic, "decisions/" + event.subject);
  const json data = json::parse(event.data);
  EXPECT_EQ(data["sensor"], event.subject);
  EXPECT_EQ(data["tags"]["line"], "l1");
  Applied applied;
  EXPECT_EQ(data["tags"]["badge"], *set->applyText("tags.badge", "B-1234", applied));
  ASSERT_EQ(event.tags.size(), 2U);
  EXPECT_EQ(event.tags[0].second, data["tags"]["badge"]);
  EXPECT_EQ(event.time_ns, 1699999200000000000);
  EXPECT_EQ(data["ts_ns"], 1699999200000000000);
  // The id was derived from the sensor: re-keyed, stable, with its prefix.
  EXPECT_EQ(event.id, "d-" + *set->pseudonym("d-1", 32));
  EXPECT_EQ(filterEvent(*set, "t", decisionEvent()).event->id, event.id);
}

TEST(EventFilterTest, TelemetryTagsAreFilteredAndTheRawReadingStaysHome) {
  Event event = decisionEvent();
  event.tags.clear();
  event.telemetry = Telemetry{Symbol::intern("door1/badge-B-1234"), 1, {1.0}};
  event.telemetry->tags = {{"badge", "B-1234"}};
  const Filtered out = filterEvent(*rules(), "t", event);
  ASSERT_TRUE(out.event);
  EXPECT_FALSE(out.event->telemetry);
  ASSERT_EQ(out.event->tags.size(), 1U);
  EXPECT_NE(out.event->tags[0].second, "B-1234");
}

TEST(EventFilterTest, DataThatIsNotJsonIsWithheld) {
  Event event = decisionEvent();
  event.data = "\xa1\x61\x76\x01";  // CBOR
  const Filtered out = filterEvent(*rules(), "t", event);
  EXPECT_FALSE(out.event);
  EXPECT_THAT(out.withheld, ::testing::HasSubstr("not a JSON object"));
  EXPECT_TRUE(filterEvent(RuleSet(), "t", event).event) << "no rules: passed as it is";
}

// A bus that hands every published event to its subscribers, for the PrivateBus.
class DirectBus final : public Bus {
 public:
  std::uint64_t subscribe(std::string, Handler handler) override {
    handlers_.push_back(std::move(handler));
    return handlers_.size();
  }
  void unsubscribe(std::uint64_t) override {}
  void publish(std::string_view topic, const Event& event) override {
    for (const auto& handler : handlers_) handler(topic, event);
  }
  [[nodiscard]] bool hasSubscribers(std::string_view) const override { return true; }

 private:
  std::vector<Handler> handlers_;
};

TEST(PrivateBusTest, SinksOnlySeeFilteredEventsAndDropsAreCounted) {
  DirectBus inner;
  auto badge = parseFieldPath("tags.badge");
  auto op = parseFieldPath("tags.operator");
  auto set = std::make_shared<RuleSet>(
      std::vector<Rule>{*parseRule(YAML::Load("{field: tags.badge, action: drop}"), "s")},
      std::vector<FieldPath>{*badge, *op}, nullptr);
  PrivateBus bus(inner, "unit-sink", set);
  std::vector<Event> seen;
  bus.subscribe("#", [&](std::string_view, const Event& event) { seen.push_back(event); });
  Event event = decisionEvent();
  event.data = R"({"value":1,"tags":{"badge":"B-1234","operator":"Jane Roe"}})";
  event.tags = {{"operator", "Jane Roe"}};
  const auto before = metrics().counterTotal("sie_privacy_fields_dropped_total");
  inner.publish("decisions/x", event);
  event.data = "not json";
  inner.publish("decisions/x", event);
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].data, R"({"tags":{},"value":1})");
  EXPECT_TRUE(seen[0].tags.empty());
  EXPECT_EQ(metrics().counterTotal("sie_privacy_fields_dropped_total") - before, 2U);
  EXPECT_EQ(metrics().counterTotal("sie_privacy_withheld_total"), 1U);
}

}  // namespace
}  // namespace sie::privacy
