#include "adapters/mqtt/topic_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::mqtt {
namespace {

using ::testing::HasSubstr;

TopicTemplate parsed(std::string_view text) {
  auto t = TopicTemplate::parse(text);
  EXPECT_TRUE(t) << t.error().str();
  return *t;
}

TEST(MqttTopicTemplateTest, NamedLevelsBecomeTags) {
  const TopicTemplate t = parsed("plant/{line}/{asset}/{signal}");
  EXPECT_EQ(t.filter(), "plant/+/+/+");
  Tags tags;
  ASSERT_TRUE(t.match("plant/l1/pump7/temp", tags));
  EXPECT_EQ(tags, (Tags{{"line", "l1"}, {"asset", "pump7"}, {"signal", "temp"}}));
}

TEST(MqttTopicTemplateTest, MismatchLeavesTagsUntouched) {
  const TopicTemplate t = parsed("plant/{line}/{asset}/{signal}");
  Tags tags{{"keep", "me"}};
  EXPECT_FALSE(t.match("plant/l1/pump7", tags));         // too short
  EXPECT_FALSE(t.match("plant/l1/pump7/temp/x", tags));  // too long
  EXPECT_FALSE(t.match("other/l1/pump7/temp", tags));    // literal differs
  EXPECT_EQ(tags, (Tags{{"keep", "me"}}));
}

TEST(MqttTopicTemplateTest, WildcardsMatchWithoutNames) {
  const TopicTemplate plus = parsed("site/+/{asset}/#");
  EXPECT_EQ(plus.filter(), "site/+/+/#");
  Tags tags;
  ASSERT_TRUE(plus.match("site/a/p1/x/y", tags));
  EXPECT_EQ(tags, (Tags{{"asset", "p1"}}));
  tags.clear();
  ASSERT_TRUE(plus.match("site/a/p1", tags));  // '#' matches nothing too
  EXPECT_EQ(tags, (Tags{{"asset", "p1"}}));
  EXPECT_TRUE(parsed("#").match("anything/at/all", tags));
  tags.clear();
  EXPECT_TRUE(parsed("{a}").match("", tags));  // an empty level is a level
  EXPECT_EQ(tags, (Tags{{"a", ""}}));
}

TEST(MqttTopicTemplateTest, BadTemplatesSayWhy) {
  EXPECT_THAT(TopicTemplate::parse("").error().message, HasSubstr("is empty"));
  EXPECT_THAT(TopicTemplate::parse("a/{}/b").error().message, HasSubstr("name is empty"));
  EXPECT_THAT(TopicTemplate::parse("a/x{b}").error().message, HasSubstr("mixes braces"));
  EXPECT_THAT(TopicTemplate::parse("a/{b}/{b}").error().message, HasSubstr("used twice"));
  EXPECT_THAT(TopicTemplate::parse("a/#/b").error().message, HasSubstr("'#' must be the last"));
  EXPECT_THAT(TopicTemplate::parse("a/b+").error().message, HasSubstr("mixes a wildcard"));
  EXPECT_THAT(TopicTemplate::parse("a/{b c}").error().message, HasSubstr("only letters"));
}
}  // namespace
}  // namespace sie::mqtt
