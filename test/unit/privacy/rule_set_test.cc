#include "privacy/rule_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::privacy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

Result<Rule> rule(const std::string& yaml) { return parseRule(YAML::Load(yaml), "site.yaml"); }

Rule must(const std::string& yaml) {
  auto r = rule(yaml);
  EXPECT_TRUE(r) << r.error().str();
  return r ? *r : Rule{};
}

std::shared_ptr<const Pseudonymizer> key(char fill = 'k') {
  return std::make_shared<Pseudonymizer>(*Pseudonymizer::fromKey(std::string(32, fill), "test"));
}

json decision() {
  return json::parse(
      R"({"function":"door","version":"1","sensor":"hall/door1/access","ts_ns":1700000123456789000,)"
      R"("value":21.4567,"score":0.5,"anomaly":false,"label":"ok","detail":"",)"
      R"("tags":{"badge":"B-1234","operator":"Jane Roe","seq":"7"}})");
}

TEST(RuleSetTest, DropRemovesTheField) {
  RuleSet rules(
      {must("{field: tags.operator, action: drop}"), must("{field: detail, action: drop}")}, {},
      nullptr);
  json doc = decision();
  Applied applied;
  rules.apply(doc, applied);
  EXPECT_FALSE(doc["tags"].contains("operator"));
  EXPECT_FALSE(doc.contains("detail"));
  EXPECT_EQ(doc["tags"]["badge"], "B-1234");
  EXPECT_TRUE(applied.uncovered.empty());
}

TEST(RuleSetTest, PseudonymsAreStableForAKeyAndDifferBetweenKeys) {
  const std::vector<Rule> list = {must("{field: tags.badge, action: pseudonymize, length: 20}")};
  RuleSet a(list, {}, key('a'));
  RuleSet again(list, {}, key('a'));
  RuleSet b(list, {}, key('b'));
  json one = decision(), two = decision(), three = decision();
  Applied applied;
  a.apply(one, applied);
  again.apply(two, applied);
  b.apply(three, applied);
  const std::string pseudonym = one["tags"]["badge"];
  EXPECT_EQ(pseudonym.size(), 20U);
  EXPECT_NE(pseudonym, "B-1234");
  EXPECT_EQ(two["tags"]["badge"], pseudonym);
  EXPECT_NE(three["tags"]["badge"], pseudonym);
  EXPECT_EQ(a.applyText("tags.badge", "B-1234", applied), pseudonym);  // tags match the data
}

TEST(RuleSetTest, GeneralizeRoundsBucketsAndCoarsensTime) {
  Applied applied;
  json doc = decision();
  RuleSet digits({must("{field: value, action: generalize, digits: 1}"),
                  must("{field: ts_ns, action: generalize, period: 1h}"),
                  must("{field: score, action: generalize, buckets: [0, 0.25, 0.75]}"),
                  must("{field: tags.seq, action: generalize, step: 5}")},
                 {}, nullptr);
  digits.apply(doc, applied);
  EXPECT_DOUBLE_EQ(doc["value"].get<double>(), 21.5);
  EXPECT_EQ(doc["ts_ns"].get<std::int64_t>(), 1699999200000000000);  // 22:00:00 UTC
  EXPECT_EQ(doc["score"], "[0.25,0.75)");
  EXPECT_EQ(doc["tags"]["seq"], "5");

  RuleSet step({must("{field: value, action: generalize, step: 5}")}, {}, nullptr);
  json two = decision();
  step.apply(two, applied);
  EXPECT_DOUBLE_EQ(two["value"].get<double>(), 20.0);

  RuleSet buckets({must("{field: value, action: generalize, buckets: [0, 10, 50]}")}, {}, nullptr);
  json low = {{"value", -3}}, high = {{"value", 77}}, mid = {{"value", 10}};
  buckets.apply(low, applied);
  buckets.apply(high, applied);
  buckets.apply(mid, applied);
  EXPECT_EQ(low["value"], "<0");
  EXPECT_EQ(high["value"], ">=50");
  EXPECT_EQ(mid["value"], "[10,50)");

  RuleSet minutes({must("{field: ts_ns, action: generalize, period: 1m}")}, {}, nullptr);
  json t = {{"ts_ns", 1700000123456789000}};
  minutes.apply(t, applied);
  EXPECT_EQ(t["ts_ns"].get<std::int64_t>(), 1700000100000000000);
  EXPECT_TRUE(applied.unreadable.empty());
}

TEST(RuleSetTest, AValueGeneralizeCannotReadIsDroppedAndReported) {
  RuleSet rules({must("{field: label, action: generalize, digits: 0}")}, {}, nullptr);
  json doc = decision();
  Applied applied;
  rules.apply(doc, applied);
  EXPECT_FALSE(doc.contains("label"));
  EXPECT_THAT(applied.unreadable, ElementsAre("label"));
}

TEST(RuleSetTest, PersonalFieldsWithoutARuleAreRefusedAndNeverSent) {
  auto badge = parseFieldPath("tags.badge");
  auto op = parseFieldPath("tags.operator");
  ASSERT_TRUE(badge && op);
  RuleSet rules({must("{field: tags.badge, action: pseudonymize}")}, {*badge, *op}, key());
  EXPECT_EQ(rules.uncovered(), "tags.operator");
  json doc = decision();
  Applied applied;
  rules.apply(doc, applied);
  EXPECT_FALSE(doc["tags"].contains("operator"));
  EXPECT_NE(doc["tags"]["badge"], "B-1234");
  EXPECT_THAT(applied.uncovered, ElementsAre("tags.operator"));

  Tags tags = {{"badge", "B-1234"}, {"operator", "Jane Roe"}, {"line", "l1"}};
  rules.apply(tags, applied);
  ASSERT_EQ(tags.size(), 2U);
  EXPECT_EQ(tags[0].first, "badge");
  EXPECT_NE(tags[0].second, "B-1234");
  EXPECT_EQ(tags[1], (std::pair<std::string, std::string>{"line", "l1"}));
}

TEST(RuleSetTest, BadRulesSayWhatWhereAndHowToFix) {
  auto unknown = rule("{field: tags.badge, action: hash}");
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().str(),
              HasSubstr("site.yaml:1: privacy rule for tags.badge: unknown action 'hash': use "
                        "drop, pseudonymize (keyed HMAC) or generalize"));
  auto field = rule("{field: operater, action: drop}");
  ASSERT_FALSE(field);
  EXPECT_THAT(field.error().message, HasSubstr("unknown field 'operater'"));
  EXPECT_THAT(field.error().message, HasSubstr("tags.NAME"));
  EXPECT_THAT(rule("{field: value, action: generalize}").error().message,
              HasSubstr("exactly one of digits"));
  EXPECT_THAT(rule("{field: value, action: generalize, digits: 1, step: 2}").error().message,
              HasSubstr("exactly one of digits"));
  EXPECT_THAT(rule("{field: value, action: generalize, buckets: [5, 1]}").error().message,
              HasSubstr("ascending"));
  EXPECT_THAT(rule("{field: value, action: generalize, buckets: [a]}").error().message,
              HasSubstr("buckets must be numbers"));
  EXPECT_THAT(rule("{field: value, action: generalize, step: 0}").error().message,
              HasSubstr("step must be a number above 0"));
  EXPECT_THAT(rule("{field: value, action: drop, digits: 1}").error().message,
              HasSubstr("belong to action: generalize"));
  EXPECT_THAT(rule("{field: tags.badge, action: pseudonymize, length: 4}").error().message,
              HasSubstr("length must be 8..64"));
  EXPECT_THAT(rule("{field: tags.badge, action: drop, length: 16}").error().message,
              HasSubstr("length belongs to action: pseudonymize"));
  EXPECT_THAT(rule("{field: tags.badge, action: drop, salt: x}").error().message,
              HasSubstr("salt"));
  EXPECT_THAT(rule("{field: tags., action: drop}").error().message, HasSubstr("name one tag"));
}

}  // namespace
}  // namespace sie::privacy
