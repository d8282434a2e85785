#include "core/file_text.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/signing.h"
#include "faulty_env.h"

namespace sie {
namespace {

using ::testing::HasSubstr;

class FileTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("sie-file-text-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(FileTextTest, ReadsEveryByte) {
  const std::string bytes("a\0b\r\n\xff", 6);
  auto got = readFileText(write("bin", bytes));
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(*got, bytes);
  EXPECT_EQ(readFileText(write("empty", "")).value(), "");
}

TEST_F(FileTextTest, ErrorsSayWhatIsWrongWithWhichPath) {
  const std::string missing = (dir_ / "missing").string();
  auto got = readFileText(missing);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kNotFound);
  EXPECT_EQ(got.error().str(), missing + ": no such file");

  got = readFileText(dir_.string());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Errc::kInvalidArgument);
  EXPECT_THAT(got.error().str(), HasSubstr("not a regular file"));

  got = readFileText(write("big", std::string(100, 'x')), 99);
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().str(), HasSubstr("larger than 99 bytes"));
  EXPECT_TRUE(readFileText(write("fits", std::string(99, 'x')), 99));
}

TEST_F(FileTextTest, AFullDiskOrAFailedSyncLeavesTheFileAsItWas) {
  const std::string path = write("state.json", "old");
  sie::testing::FaultyEnv env;
  env.diskFullAfter(3);
  auto written = writeFileAtomically(path, "new and longer", 0644, env);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, Errc::kIo);
  EXPECT_THAT(written.error().str(), HasSubstr("cannot write: No space left on device"));
  EXPECT_EQ(readFileText(path).value(), "old");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp")) << "no temporary file is left behind";

  env.heal();
  env.failSyncs();
  written = writeFileAtomically(path, "new", 0644, env);
  ASSERT_FALSE(written);
  EXPECT_THAT(written.error().str(), HasSubstr("cannot sync: Input/output error"));
  EXPECT_EQ(readFileText(path).value(), "old");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_FALSE(syncDir(dir_.string(), env));

  env.heal();
  ASSERT_TRUE(writeFileAtomically(path, "new", 0644, env));
  EXPECT_EQ(readFileText(path).value(), "new");
}

TEST_F(FileTextTest, KeysAreNotHalfWrittenOnAFullDisk) {
  sie::testing::FaultyEnv env;
  env.diskFullAfter(20);
  const std::string key = (dir_ / "node.key").string();
  auto made = generateKeyPair(key, key + ".pub", env);
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().str(), HasSubstr("No space left on device"));
  EXPECT_FALSE(std::filesystem::exists(key));
  EXPECT_FALSE(std::filesystem::exists(key + ".pub"));

  env.heal();
  ASSERT_TRUE(generateKeyPair(key, key + ".pub"));
  const std::string pem = readFileText(key + ".pub").value();
  env.failSyncs();
  const std::string trusted = (dir_ / "trusted").string();
  auto added = TrustStore::add(trusted, pem, "ops", env);
  ASSERT_FALSE(added);
  EXPECT_THAT(added.error().str(), HasSubstr("cannot sync"));
  auto store = TrustStore::load(trusted);
  ASSERT_TRUE(store) << store.error().str();
  EXPECT_TRUE(store->keys().empty()) << "a key that was not kept is not trusted";
}

}  // namespace
}  // namespace sie
