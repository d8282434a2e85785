#include "core/topic_pattern.h"

#include <gtest/gtest.h>

namespace sie {
namespace {

bool match(std::string_view pattern, std::string_view topic) {
  auto p = TopicPattern::parse(pattern);
  EXPECT_TRUE(p) << pattern;
  return p && p->matches(topic);
}

TEST(TopicPatternTest, ExactLevels) {
  EXPECT_TRUE(match("grid/feeder1/voltage", "grid/feeder1/voltage"));
  EXPECT_FALSE(match("grid/feeder1/voltage", "grid/feeder1/frequency"));
  EXPECT_FALSE(match("grid/feeder1", "grid/feeder1/voltage"));
  EXPECT_FALSE(match("grid/feeder1/voltage", "grid/feeder1"));
}

TEST(TopicPatternTest, PlusMatchesExactlyOneLevel) {
  EXPECT_TRUE(match("grid/+/voltage", "grid/feeder7/voltage"));
  EXPECT_FALSE(match("grid/+/voltage", "grid/a/b/voltage"));
  EXPECT_FALSE(match("grid/+", "grid"));
  EXPECT_TRUE(match("+/+/+", "a/b/c"));
  EXPECT_TRUE(match("grid/+/voltage", "grid//voltage"));  // empty levels are levels
}

TEST(TopicPatternTest, HashMatchesRestIncludingParent) {
  EXPECT_TRUE(match("#", "anything/at/all"));
  EXPECT_TRUE(match("rotating/#", "rotating/pump1/vibration"));
  EXPECT_TRUE(match("rotating/#", "rotating"));
  EXPECT_FALSE(match("rotating/#", "grid/feeder1/load"));
  EXPECT_TRUE(match("rotating/+/#", "rotating/pump1"));
}

TEST(TopicPatternTest, RejectsMalformedPatterns) {
  EXPECT_FALSE(TopicPattern::parse(""));
  auto mid_hash = TopicPattern::parse("a/#/b");
  ASSERT_FALSE(mid_hash);
  EXPECT_NE(mid_hash.error().message.find("last level"), std::string::npos);
  EXPECT_FALSE(TopicPattern::parse("a/b+/c"));
  EXPECT_FALSE(TopicPattern::parse("a/#x"));
}

}  // namespace
}  // namespace sie
