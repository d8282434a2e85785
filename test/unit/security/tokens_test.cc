// Bearer tokens: issued once, kept as hashes in a 0600 file, refused when unknown, malformed,
// expired or revoked (and saying which), and shared with another process through the file.
#include "security/tokens.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::security {
namespace {

using ::testing::HasSubstr;

class ManualClock final : public Clock {
 public:
  [[nodiscard]] std::int64_t nowNs() const override { return now_ns; }
  [[nodiscard]] std::int64_t monotonicNs() const override { return now_ns; }
  std::int64_t now_ns = 1'800'000'000'000'000'000;
};

class TokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sie-tokens-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto opened = TokenStore::open(dir_.string(), clock_);
    ASSERT_TRUE(opened) << opened.error().str();
    store_ = std::move(*opened);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  ManualClock clock_;
  std::unique_ptr<TokenStore> store_;
};

TEST_F(TokensTest, AnIssuedTokenVerifiesAndOnlyItsHashIsKept) {
  auto issued = store_->create("scada", Role::kOperator, std::chrono::hours(8));
  ASSERT_TRUE(issued) << issued.error().str();
  EXPECT_THAT(issued->text, ::testing::MatchesRegex("sie_[0-9a-f]{16}_[0-9a-f]{64}"));
  auto token = store_->verify(issued->text);
  ASSERT_TRUE(token) << token.error().str();
  EXPECT_EQ(token->identity, "scada");
  EXPECT_EQ(token->role, Role::kOperator);

  struct stat st {};
  ASSERT_EQ(::stat(store_->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  std::ifstream in(store_->path());
  const std::string file((std::istreambuf_iterator<char>(in)), {});
  const std::string secret = issued->text.substr(issued->text.rfind('_') + 1);
  EXPECT_EQ(file.find(secret), std::string::npos);
}

TEST_F(TokensTest, ExpiredRevokedForgedAndMalformedTokensAreRefusedWithTheReason) {
  auto issued = store_->create("short", Role::kViewer, std::chrono::seconds(60));
  ASSERT_TRUE(issued);
  const std::string& text = issued->text;
  std::string forged = text;
  forged.back() = forged.back() == '0' ? '1' : '0';
  auto refused = store_->verify(forged);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kUnauthenticated);
  EXPECT_THAT(refused.error().message, HasSubstr("not one this node issued"));
  EXPECT_THAT(store_->verify("Bearer x").error().message, HasSubstr("malformed"));
  EXPECT_THAT(store_->verify(text + "0").error().message, HasSubstr("malformed"));
  EXPECT_THAT(store_->verify("").error().message, HasSubstr("malformed"));

  clock_.now_ns += 61'000'000'000;
  EXPECT_THAT(store_->verify(text).error().message, HasSubstr("has expired"));

  auto other = store_->create("other", Role::kAdmin, std::chrono::seconds(0));  // never expires
  ASSERT_TRUE(other);
  clock_.now_ns += 1'000'000'000'000'000;
  EXPECT_TRUE(store_->verify(other->text));
  ASSERT_TRUE(store_->revoke(other->token.id));
  EXPECT_THAT(store_->verify(other->text).error().message, HasSubstr("revoked"));
  EXPECT_EQ(store_->revoke("0000000000000000").error().code, Errc::kNotFound);
  EXPECT_EQ(store_->list()->size(), 2U);  // revoked tokens stay listed
}

TEST_F(TokensTest, AnotherWriterOfTheFileIsSeen) {
  auto second = TokenStore::open(dir_.string(), clock_);
  ASSERT_TRUE(second);
  auto issued = (*second)->create("cli", Role::kDeployer, std::chrono::hours(1));
  ASSERT_TRUE(issued);
  EXPECT_TRUE(store_->verify(issued->text));
  ASSERT_TRUE(store_->revoke(issued->token.id));
  EXPECT_FALSE((*second)->verify(issued->text));
}

TEST_F(TokensTest, IdentitiesAreShortAndPrintable) {
  EXPECT_FALSE(store_->create("", Role::kViewer, std::chrono::hours(1)));
  EXPECT_FALSE(store_->create("two words", Role::kViewer, std::chrono::hours(1)));
  EXPECT_FALSE(store_->create(std::string(65, 'a'), Role::kViewer, std::chrono::hours(1)));
  EXPECT_FALSE(store_->create("bell\a", Role::kViewer, std::chrono::hours(1)));
}

TEST_F(TokensTest, ACorruptFileIsAnErrorNotAnOpenDoor) {
  std::ofstream(store_->path()) << "{\"tokens\": [{\"id\": \"x\"}]}";
  auto again = TokenStore::open(dir_.string(), clock_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kCorrupt);
  EXPECT_FALSE(store_->verify("sie_0123456789abcdef_" + std::string(64, 'a')));
}

}  // namespace
}  // namespace sie::security
