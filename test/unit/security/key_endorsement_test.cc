#include "security/key_endorsement.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/file_text.h"
#include "core/signing.h"

namespace sie::security {
namespace {

using ::testing::HasSubstr;

constexpr auto kYear = std::chrono::hours(24 * 365);

class KeyEndorsementTest : public ::testing::TestWithParam<KeyType> {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sie-endorse-XXXXXX";
    root_ = ::mkdtemp(pattern);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string publicKey(const std::string& name) {
    const std::string base = root_ + "/" + name;
    EXPECT_TRUE(generateKeyPair(base + ".key", base + ".pub"));
    return readFileText(base + ".pub").value();
  }

  std::string root_;
};

TEST_P(KeyEndorsementTest, OnlyTheSiteCaEndorsesAKeyAndOnlyThatKey) {
  auto ca = SiteCa::init(root_ + "/ca", "plant-a", GetParam(), kYear);
  ASSERT_TRUE(ca) << ca.error().str();
  auto other_ca = SiteCa::init(root_ + "/other", "plant-a", GetParam(), kYear);
  ASSERT_TRUE(other_ca) << other_ca.error().str();
  const std::string key = publicKey("publisher");
  const std::string stranger = publicKey("stranger");

  auto doc = endorseKey(*ca, key);
  ASSERT_TRUE(doc) << doc.error().str();
  EXPECT_TRUE(checkEndorsement(key, *doc, ca->caFile()));

  // The same endorsement for another key, or checked against another site's CA, is refused.
  auto wrong_key = checkEndorsement(stranger, *doc, ca->caFile());
  ASSERT_FALSE(wrong_key);
  EXPECT_THAT(wrong_key.error().message, HasSubstr("the endorsement is for key"));
  auto wrong_ca = checkEndorsement(key, *doc, other_ca->caFile());
  ASSERT_FALSE(wrong_ca);
  EXPECT_EQ(wrong_ca.error().code, Errc::kCorrupt);
  EXPECT_THAT(wrong_ca.error().message, HasSubstr("not endorsed by this node's site CA"));

  // Another CA's endorsement relabelled with this key's id does not verify either.
  auto forged = endorseKey(*other_ca, key);
  ASSERT_TRUE(forged);
  EXPECT_FALSE(checkEndorsement(key, *forged, ca->caFile()));
}

TEST_P(KeyEndorsementTest, AlteredOrMalformedEndorsementsAreRefused) {
  auto ca = SiteCa::init(root_ + "/ca", "plant-a", GetParam(), kYear);
  ASSERT_TRUE(ca) << ca.error().str();
  const std::string key = publicKey("publisher");
  std::string doc = endorseKey(*ca, key).value();
  const auto at = doc.find("\"signature\":\"") + 14;
  doc[at] = doc[at] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(checkEndorsement(key, doc, ca->caFile()));
  for (const std::string bad : {"", "{}", "not json", R"({"alg":"ed25519","signature":"AAAA"})",
                                R"({"alg":"site-ca","key":"x","signature":"%%%"})"}) {
    auto checked = checkEndorsement(key, bad, ca->caFile());
    ASSERT_FALSE(checked) << bad;
    EXPECT_EQ(checked.error().code, Errc::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(checkEndorsement("not a key", endorseKey(*ca, key).value(), ca->caFile()));
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, KeyEndorsementTest,
                         ::testing::Values(KeyType::kEcdsaP256, KeyType::kEd25519),
                         [](const auto& param_info) {
                           return param_info.param == KeyType::kEd25519 ? "Ed25519" : "EcdsaP256";
                         });

}  // namespace
}  // namespace sie::security
