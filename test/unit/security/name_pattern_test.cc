// Glob patterns of SPIFFE IDs, token identities and function names.
#include "security/name_pattern.h"

#include <gtest/gtest.h>

namespace sie::security {
namespace {

bool matches(std::string_view pattern, std::string_view name) {
  auto p = NamePattern::parse(pattern);
  EXPECT_TRUE(p) << pattern << ": " << p.error().message;
  return p && p->matches(name);
}

TEST(NamePatternTest, OneStarStaysWithinASegment) {
  EXPECT_TRUE(matches("spiffe://plant-a/client/*", "spiffe://plant-a/client/alice"));
  EXPECT_FALSE(matches("spiffe://plant-a/client/*", "spiffe://plant-a/client/ops/alice"));
  EXPECT_FALSE(matches("spiffe://plant-a/client/*", "spiffe://plant-a/device/alice"));
  EXPECT_FALSE(matches("spiffe://plant-a/client/*", "spiffe://plant-b/client/alice"));
  EXPECT_TRUE(matches("spiffe://plant-a/client/ops-*", "spiffe://plant-a/client/ops-bob"));
  EXPECT_FALSE(matches("spiffe://plant-a/client/ops-*", "spiffe://plant-a/client/dev-bob"));
  EXPECT_TRUE(matches("spiffe://*/node/*", "spiffe://plant-b/node/edge-1"));
  EXPECT_TRUE(matches("pump-*", "pump-7"));
  EXPECT_TRUE(matches("pump-*", "pump-"));
  EXPECT_FALSE(matches("pump-*", "valve-7"));
  EXPECT_TRUE(matches("*-7", "pump-7"));
  EXPECT_TRUE(matches("p*m*-7", "pump-7"));
  EXPECT_FALSE(matches("p*m*-8", "pump-7"));
  EXPECT_TRUE(matches("token:ci-*", "token:ci-bot"));
}

TEST(NamePatternTest, TwoStarsSpanAnyNumberOfSegments) {
  EXPECT_TRUE(matches("spiffe://plant-a/**", "spiffe://plant-a/device/line-1/pump-7"));
  EXPECT_TRUE(matches("spiffe://plant-a/**", "spiffe://plant-a/client/alice"));
  EXPECT_FALSE(matches("spiffe://plant-a/**", "spiffe://plant-ab/client/alice"));
  EXPECT_TRUE(matches("spiffe://plant-a/device/**/pump-*", "spiffe://plant-a/device/l1/pump-7"));
  EXPECT_TRUE(matches("spiffe://plant-a/device/**/pump-*", "spiffe://plant-a/device/pump-7"));
  EXPECT_TRUE(matches("spiffe://plant-a/device/**/pump-*", "spiffe://plant-a/device/a/b/c/pump-7"));
  EXPECT_FALSE(matches("spiffe://plant-a/device/**/pump-*", "spiffe://plant-a/device/a/pump-7/x"));
  EXPECT_TRUE(matches("**", "anything/at/all"));
}

TEST(NamePatternTest, LiteralsCompareWhole) {
  EXPECT_TRUE(matches("spiffe://plant-a/client/alice", "spiffe://plant-a/client/alice"));
  EXPECT_FALSE(matches("spiffe://plant-a/client/alice", "spiffe://plant-a/client/alice2"));
  EXPECT_FALSE(matches("token:alice", "token:alic"));
}

TEST(NamePatternTest, MalformedPatternsAreRefused) {
  EXPECT_FALSE(NamePattern::parse(""));
  EXPECT_FALSE(NamePattern::parse("spiffe://plant-a/client**"));
  EXPECT_FALSE(NamePattern::parse("spiffe://plant-a/***"));
  EXPECT_FALSE(NamePattern::parse("token:al ice"));
  EXPECT_FALSE(NamePattern::parse(std::string(NamePattern::kMaxLength + 1, 'a')));
}

TEST(NamePatternTest, AHostileNameIsMatchedQuickly) {
  // Backtracking matchers take exponential time on these; this one takes the product of lengths.
  const std::string name(400, 'a');
  EXPECT_FALSE(matches("*a*a*a*a*a*a*a*a*a*a*b", name));
  EXPECT_FALSE(matches("**/**/**/**/**/b", std::string(200, '/')));
}

}  // namespace
}  // namespace sie::security
