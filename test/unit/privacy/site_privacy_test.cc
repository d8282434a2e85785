#include "privacy/site_privacy.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::privacy {
namespace {

using ::testing::HasSubstr;

class SitePrivacyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/privacy.key") << std::string(64, 'f') << "\n";
    std::ofstream(dir_ + "/short.key") << "0123456789\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // spec.privacy and one sink "cloud" with `rules` (YAML flow list, "" for none).
  Result<SitePrivacy> parse(const std::string& privacy, const std::string& rules) {
    const YAML::Node sink =
        YAML::Load(rules.empty() ? "{name: cloud}" : "{name: cloud, privacy: " + rules + "}");
    const YAML::Node settings = YAML::Load(privacy.empty() ? "~" : privacy);
    return parseSitePrivacy(settings, {{"cloud", sink["privacy"], "site.yaml:9"}}, file_);
  }

  // One folder per process: CTest runs these tests side by side.
  std::string dir_ = (std::filesystem::temp_directory_path() /
                      ("sie_site_privacy_test-" + std::to_string(getpid())))
                         .string();
  std::string file_ = dir_ + "/site.yaml";
};

TEST_F(SitePrivacyTest, NoSettingsMeansNoRules) {
  auto parsed = parse("", "");
  ASSERT_TRUE(parsed) << parsed.error().str();
  EXPECT_TRUE(parsed->forSink("cloud")->empty());
  EXPECT_TRUE(parsed->api->empty());
}

TEST_F(SitePrivacyTest, RulesPersonalFieldsAndTheKeyAreRead) {
  auto parsed = parse(
      "{keyFile: privacy.key, personal: [tags.badge], api: [{field: tags.badge, action: drop}]}",
      "[{field: tags.badge, action: pseudonymize}, {field: value, action: generalize, digits: 0}]");
  ASSERT_TRUE(parsed) << parsed.error().str();
  const auto cloud = parsed->forSink("cloud");
  ASSERT_NE(cloud->ruleFor("tags.badge"), nullptr);
  EXPECT_EQ(cloud->ruleFor("tags.badge")->action, RuleAction::kPseudonymize);
  EXPECT_EQ(parsed->api->ruleFor("tags.badge")->action, RuleAction::kDrop);
  Applied applied;
  EXPECT_NE(cloud->applyText("tags.badge", "B-1", applied), "B-1");
}

TEST_F(SitePrivacyTest, ASinkWithoutARuleForAPersonalFieldIsRefused) {
  auto parsed = parse("{personal: [tags.badge], api: [{field: tags.badge, action: drop}]}", "");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().where, "site.yaml:9");
  EXPECT_THAT(parsed.error().message,
              HasSubstr("sink 'cloud' would send the personal field tags.badge"));
  EXPECT_THAT(parsed.error().message, HasSubstr("add {field: tags.badge, action: pseudonymize}"));

  auto partly = parse(
      "{personal: [tags.badge, tags.operator], api: [{field: tags.badge, "
      "action: drop}, {field: tags.operator, action: drop}]}",
      "[{field: tags.badge, action: drop}]");
  ASSERT_FALSE(partly);
  EXPECT_THAT(partly.error().str(), HasSubstr("sink 'cloud' would send the personal field "
                                              "tags.operator"));
}

TEST_F(SitePrivacyTest, TheApiNeedsRulesForPersonalFieldsToo) {
  auto parsed = parse("{personal: [tags.badge]}", "[{field: tags.badge, action: drop}]");
  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().message, HasSubstr("spec.privacy.api would send the personal field"));
}

TEST_F(SitePrivacyTest, KeyProblemsAreConfigErrors) {
  auto no_key = parse("", "[{field: tags.badge, action: pseudonymize}]");
  ASSERT_FALSE(no_key);
  EXPECT_THAT(no_key.error().message, HasSubstr("spec.privacy.keyFile names no key"));
  EXPECT_THAT(no_key.error().message, HasSubstr("openssl rand -hex 32"));

  auto missing = parse("{keyFile: gone.key}", "");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message,
              HasSubstr("cannot read privacy.keyFile '" + dir_ + "/gone.key'"));

  auto short_key = parse("{keyFile: short.key}", "");
  ASSERT_FALSE(short_key);
  EXPECT_THAT(short_key.error().message, HasSubstr("holds 10 bytes; it needs at least 32"));
}

TEST_F(SitePrivacyTest, BadRulesAndFieldsAreConfigErrors) {
  EXPECT_THAT(parse("{personal: [badge]}", "").error().message,
              HasSubstr("spec.privacy.personal: unknown field 'badge'"));
  EXPECT_THAT(parse("", "[{field: tags.badge, action: scramble}]").error().message,
              HasSubstr("unknown action 'scramble'"));
  EXPECT_THAT(parse("", "{field: tags.badge, action: drop}").error().message,
              HasSubstr("privacy rules of sink 'cloud' must be a list"));
  EXPECT_THAT(parse("", "[{field: tags.badge, action: drop}, {field: tags.badge, action: drop}]")
                  .error()
                  .message,
              HasSubstr("two privacy rules for tags.badge"));
  EXPECT_THAT(parse("{salt: x}", "").error().message, HasSubstr("salt"));
}

}  // namespace
}  // namespace sie::privacy
