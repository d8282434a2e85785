#include "core/file_text.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sie
