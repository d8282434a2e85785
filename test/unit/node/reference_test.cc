// The configuration reference (`sie plugins`): made from the same tables the loaders check, so a
// key the node accepts is a key the reference lists.
#include "node/reference.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::node {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(registerBuiltinPlugins(plugins_)); }
  Plugins plugins_;
};

TEST_F(ReferenceTest, APluginIsDescribedByTheKeysItsLoaderChecks) {
  auto webhook = describePlugin(plugins_, "webhook");
  ASSERT_TRUE(webhook) << webhook.error().str();
  EXPECT_THAT(*webhook, HasSubstr("sink webhook:"));
  EXPECT_THAT(*webhook, HasSubstr("url (string, required)"));
  auto process = describePlugin(plugins_, "process");
  ASSERT_TRUE(process) << process.error().str();
  EXPECT_THAT(*process, HasSubstr("spec.process (runtime: process)"));
  EXPECT_THAT(*process, HasSubstr("scratch"));
}

TEST_F(ReferenceTest, AnUnknownNameIsRefusedNamingThePlugins) {
  auto unknown = describePlugin(plugins_, "opcua-typo");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::kNotFound);
  EXPECT_THAT(unknown.error().message, HasSubstr("no plugin named 'opcua-typo'"));
  EXPECT_THAT(unknown.error().message, HasSubstr("webhook"));
}

TEST_F(ReferenceTest, TheMarkdownCoversTheSiteTheManifestAndEveryPlugin) {
  const std::string md = referenceMarkdown(plugins_);
  for (const char* heading :
       {"### `spec.security.tls`", "### `spec.routes[].validate`", "### `spec.scaling`",
        "### `spec.model (runtime: onnx)`", "### `webhook`", "## Runtimes"}) {
    EXPECT_THAT(md, HasSubstr(heading));
  }
  EXPECT_THAT(md, HasSubstr("| `maxPayloadBytes` | integer | `1048576` |"));
  EXPECT_THAT(md, Not(HasSubstr("\n\n\n"))) << "no stray blank lines";
}

// A default breaking its own key's limits would be accepted silently (defaults are not what the
// user wrote): every table's are checked here instead.
TEST_F(ReferenceTest, EveryDefaultIsWithinItsOwnKeysLimits) {
  const auto sections = configSections(plugins_);
  EXPECT_GT(sections.size(), 20U);
  for (const auto& section : sections) {
    EXPECT_TRUE(checkDefaults(section.keys))
        << section.path << ": " << checkDefaults(section.keys).error().str();
  }
  constexpr ConfigKey kWrong[] = {
      ConfigKey{"retries", ConfigKey::Type::kInt, "20", "again"}.within(0, 10)};
  EXPECT_FALSE(checkDefaults(kWrong));
}

}  // namespace
}  // namespace sie::node
