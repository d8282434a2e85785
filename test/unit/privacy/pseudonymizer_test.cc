#include "privacy/pseudonymizer.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::privacy {
namespace {

using ::testing::HasSubstr;

const std::string kKeyA(32, 'a');
const std::string kKeyB(32, 'b');

TEST(PseudonymizerTest, TheSameKeyGivesTheSamePseudonym) {
  auto one = Pseudonymizer::fromKey(kKeyA, "test");
  auto two = Pseudonymizer::fromKey(kKeyA, "test");
  ASSERT_TRUE(one && two);
  EXPECT_EQ(one->pseudonym("B-1234", 16), two->pseudonym("B-1234", 16));
  EXPECT_EQ(one->pseudonym("B-1234", 16).size(), 16U);
  EXPECT_NE(one->pseudonym("B-1234", 16), one->pseudonym("B-1235", 16));
  EXPECT_THAT(one->pseudonym("B-1234", 16), ::testing::MatchesRegex("[0-9a-f]{16}"));
}

TEST(PseudonymizerTest, AnotherKeyGivesAnotherPseudonym) {
  auto a = Pseudonymizer::fromKey(kKeyA, "test");
  auto b = Pseudonymizer::fromKey(kKeyB, "test");
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->pseudonym("B-1234", 64), b->pseudonym("B-1234", 64));
}

TEST(PseudonymizerTest, IsHmacSha256OfTheValue) {
  // printf 'B-1234' | openssl dgst -sha256 -hmac aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
  auto a = Pseudonymizer::fromKey(kKeyA, "test");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->pseudonym("B-1234", 64),
            "b674456be62145f4681cbe2ab83cc2fefc7794c086d8acae08e52c6880f6683e");
  EXPECT_EQ(a->pseudonym("B-1234", 12), "b674456be621");
}

TEST(PseudonymizerTest, ShortKeysAreRefused) {
  auto made = Pseudonymizer::fromKey(std::string(31, 'k'), "in 'k.key'");
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().message, HasSubstr("holds 31 bytes; it needs at least 32"));
  EXPECT_THAT(made.error().message, HasSubstr("openssl rand -hex 32"));
}

TEST(PseudonymizerTest, KeyFilesAreReadAndCheckedWithTheirPlace) {
  const auto dir = std::filesystem::temp_directory_path() / "sie_pseudonymizer_test";
  std::filesystem::create_directories(dir);
  const std::string good = (dir / "good.key").string();
  const std::string bad = (dir / "short.key").string();
  std::ofstream(good) << kKeyA << "\n";
  std::ofstream(bad) << "tooshort\n";
  auto loaded = Pseudonymizer::load(good, "site.yaml:3");
  ASSERT_TRUE(loaded) << loaded.error().str();
  EXPECT_EQ(loaded->pseudonym("x", 16), Pseudonymizer::fromKey(kKeyA, "")->pseudonym("x", 16));

  auto short_key = Pseudonymizer::load(bad, "site.yaml:3");
  ASSERT_FALSE(short_key);
  EXPECT_EQ(short_key.error().where, "site.yaml:3");
  EXPECT_THAT(short_key.error().message, HasSubstr(bad));

  auto missing = Pseudonymizer::load((dir / "none.key").string(), "site.yaml:3");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().str(), HasSubstr("site.yaml:3: cannot read privacy.keyFile"));
  EXPECT_THAT(missing.error().message, HasSubstr("openssl rand -hex 32"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sie::privacy
