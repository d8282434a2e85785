#include "core/placeholders.h"

#include <gtest/gtest.h>

namespace sie {
namespace {

TEST(PlaceholdersTest, ExpandKnownNamesAndKeepTheRest) {
  const Tags tags{{"asset", "p7"}, {"seq", "42"}};
  const auto lookup = [&](std::string_view name) { return findTag(tags, name); };
  EXPECT_EQ(expandPlaceholders("sie/{asset}/decision", lookup), "sie/p7/decision");
  EXPECT_EQ(expandPlaceholders(R"({"seq":{seq},"x":{"y":1},"z":"{unknown}"})", lookup),
            R"({"seq":42,"x":{"y":1},"z":"{unknown}"})");
  EXPECT_EQ(expandPlaceholders("{asset", lookup), "{asset");
  EXPECT_EQ(expandPlaceholders("{}{asset}{", lookup), "{}p7{");
}

}  // namespace
}  // namespace sie
