#include "config/function_bundle.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/function_manifest.h"
#include "runtime_schemas.h"

namespace sie::node {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kManifest = R"(apiVersion: sie/v1
kind: Function
metadata: {name: score, version: "1"}
spec:
  runtime: process
  handler: fn/score.py
  triggers: ["line/#"]
  process: {read: [data, table.csv]}
)";

class FunctionBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sie-bundle-XXXXXX";
    root_ = ::mkdtemp(pattern);
    write("fn/score.py", "#!/usr/bin/python3\nimport helper\n");
    write("fn/helper.py", "LIMIT = 5\n");
    write("fn/lib/deep.py", "x = 1\n");
    write("fn/.cache/skip.pyc", "cached");
    write("fn/score.py.sig", "a signature");
    write("fn/old.bundle", "an old bundle");
    write("data/limits.json", "{}");
    write("table.csv", "a,b\n");
    write("elsewhere.txt", "not the function's");
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(root_ + "/" + path).parent_path());
    std::ofstream(root_ + "/" + path, std::ios::binary | std::ios::trunc) << text;
  }

  FunctionBundle hashed(std::int64_t sequence = 7) {
    auto specs = parseManifests({root_ + "/score.yaml", kManifest}, sie::testing::runtimeSchemas());
    EXPECT_TRUE(specs) << specs.error().str();
    auto bundle = hashBundle(specs->front(), kManifest, sequence);
    EXPECT_TRUE(bundle) << bundle.error().str();
    return *bundle;
  }

  std::string root_;
};

TEST_F(FunctionBundleTest, CoversTheHandlersFolderAndWhatTheFunctionReads) {
  const FunctionBundle bundle = hashed();
  EXPECT_EQ(bundle.name, "score");
  EXPECT_EQ(bundle.sequence, 7);
  std::vector<std::string> paths;
  for (const auto& file : bundle.files) paths.push_back(file.path);
  // Hidden entries, signatures and bundle documents aside; nothing outside the named paths.
  EXPECT_THAT(paths, ::testing::ElementsAre("data/limits.json", "fn/helper.py", "fn/lib/deep.py",
                                            "fn/score.py", "table.csv"));
}

TEST_F(FunctionBundleTest, TheDocumentReadsBackExactly) {
  write("fn/with space%.py", "odd name");
  EXPECT_TRUE(FunctionBundle::parse("sie-bundle 1\nname f\nsequence 1\nmanifest " +
                                    std::string(64, 'a') + "\nfile ../../models/m.onnx " +
                                    std::string(64, 'b') + "\n"));  // a manifest may climb
  const FunctionBundle bundle = hashed();
  const std::string text = bundle.text();
  EXPECT_THAT(text, HasSubstr("file fn/with%20space%25.py "));
  auto parsed = FunctionBundle::parse(text);
  ASSERT_TRUE(parsed) << parsed.error().str();
  EXPECT_EQ(parsed->text(), text);
  EXPECT_EQ(parsed->files, bundle.files);
  EXPECT_TRUE(matchBundle(*parsed, bundle));
}

TEST_F(FunctionBundleTest, MalformedDocumentsAreRefusedWithTheLine) {
  const std::string good = hashed().text();
  const std::string sha(64, 'a');
  const std::string head = "sie-bundle 1\nname f\nsequence 3\nmanifest " + sha + "\n";
  for (const auto& [text, what] : std::vector<std::pair<std::string, std::string>>{
           {good.substr(0, good.size() - 1), "ends with a newline"},
           {"sie-bundle 2\n" + good.substr(good.find('\n') + 1), "line 1"},
           {"sie-bundle 1\nname f\nsequence 0\nmanifest " + sha + "\n", "line 3"},
           {"sie-bundle 1\nname f\nsequence 012\nmanifest " + sha + "\n", "line 3"},
           {"sie-bundle 1\nname f\nsequence 99999999999999999999\nmanifest " + sha + "\n",
            "line 3"},
           {"sie-bundle 1\nname f\nsequence 3\nmanifest " + std::string(64, 'A') + "\n", "line 4"},
           {head + "file a/../x " + sha + "\n", "line 5"},
           {head + "file ../.. " + sha + "\n", "line 5"},
           {head + "file ./x " + sha + "\n", "line 5"},
           {head + "file /etc/passwd " + sha + "\n", "line 5"},
           {head + "file a//b " + sha + "\n", "line 5"},
           {head + "file a%2 " + sha + "\n", "line 5"},
           {head + "file a%41 " + sha + "\n", "line 5"},  // escapes only what must be
           {head + "file a\tb " + sha + "\n", "line 5"},
           {head + "file b " + sha + "\nfile a " + sha + "\n", "line 6"},
           {head + "file a " + sha + "\nfile a " + sha + "\n", "line 6"},
           {head + "\n", "line 5"},
       }) {
    auto parsed = FunctionBundle::parse(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code, Errc::kInvalidArgument);
    EXPECT_THAT(parsed.error().str(), HasSubstr(what)) << text;
  }
}

TEST_F(FunctionBundleTest, EveryDifferenceIsNamed) {
  const FunctionBundle signed_bundle = hashed();
  write("fn/helper.py", "LIMIT = 500\n");  // a module changed
  write("fn/new.py", "import os\n");       // a file added
  FunctionBundle here = hashed();
  // A file the signer had that the node was not sent.
  here.files.erase(std::find_if(here.files.begin(), here.files.end(),
                                [](const BundleFile& f) { return f.path == "fn/lib/deep.py"; }));
  auto matched = matchBundle(signed_bundle, here);
  ASSERT_FALSE(matched);
  EXPECT_EQ(matched.error().code, Errc::kCorrupt);
  EXPECT_THAT(matched.error().message, HasSubstr("fn/helper.py changed after it was signed"));
  EXPECT_THAT(matched.error().message, HasSubstr("fn/new.py is not in the signed bundle"));
  EXPECT_THAT(matched.error().message, HasSubstr("fn/lib/deep.py is signed but missing"));

  FunctionBundle renamed = signed_bundle;
  renamed.name = "other";
  EXPECT_THAT(matchBundle(renamed, signed_bundle).error().message,
              HasSubstr("signed for function"));
  FunctionBundle manifest = signed_bundle;
  manifest.manifest_sha256 = std::string(64, '0');
  EXPECT_THAT(matchBundle(manifest, signed_bundle).error().message,
              HasSubstr("the manifest changed after it was signed"));
}

TEST_F(FunctionBundleTest, AMissingFileTheFunctionReadsIsAnError) {
  std::filesystem::remove(root_ + "/table.csv");
  auto specs = parseManifests({root_ + "/score.yaml", kManifest}, sie::testing::runtimeSchemas());
  ASSERT_TRUE(specs);
  EXPECT_FALSE(hashBundle(specs->front(), kManifest, 1));
}

}  // namespace
}  // namespace sie::node
