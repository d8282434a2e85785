// DesiredState: what the control API was asked to run, durable in <data_dir>/control — every
// change is seen by a fresh load, a corrupt file is refused with what to do, and the signed
// release sequence is never forgotten.
#include "control/desired_state.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/file_text.h"
#include "faulty_env.h"
#include "table_harness.h"

namespace sie::node {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::TestDir;

const std::string kShaA(64, 'a');
const std::string kShaB(64, 'b');

class DesiredStateTest : public ::testing::Test {
 protected:
  DesiredState open() {
    auto loaded = DesiredState::load(dir_.str());
    EXPECT_TRUE(loaded) << loaded.error().str();
    return std::move(loaded).value();  // throws (and fails the test) on an error
  }
  // The state as a restarted node reads it.
  DesiredState reloaded() { return open(); }
  void writeDesired(const std::string& text) {
    std::filesystem::create_directories(dir_.path() / "control");
    std::ofstream(dir_.path() / "control" / "desired.json") << text;
  }

  TestDir dir_{"desired"};
};

ScalingPolicy someScaling() {
  ScalingPolicy s;
  s.min = 2;
  s.max = 9;
  s.target_concurrency = 4;
  s.idle_timeout = std::chrono::milliseconds(1234);
  s.prewarm = true;
  return s;
}

RolloutPolicy somePolicy() {
  RolloutPolicy p;
  p.strategy = RolloutPolicy::Strategy::kShadow;
  p.weight = 35;
  p.max_error_rate = 0.25;
  p.max_p99_ms = 12.5;
  p.min_invocations = 77;
  return p;
}

TEST_F(DesiredStateTest, NoFolderIsAnEmptyState) {
  DesiredState state = open();
  EXPECT_THAT(state.entries(), IsEmpty());
  EXPECT_EQ(state.find("pump"), nullptr);
  EXPECT_THAT(state.versions("pump"), IsEmpty());
  EXPECT_EQ(state.signedSequence("pump"), 0);
  auto manifest = state.manifest("pump", "1");
  ASSERT_TRUE(manifest);
  EXPECT_FALSE(*manifest);
  auto refs = state.artifacts("pump", "1");
  ASSERT_TRUE(refs);
  EXPECT_THAT(*refs, IsEmpty());
  auto bundle = state.bundle("pump", "1");
  ASSERT_TRUE(bundle);
  EXPECT_FALSE(*bundle);
  EXPECT_THAT(state.artifactUsers(kShaA), IsEmpty());
}

TEST_F(DesiredStateTest, ADeployIsKeptWithItsManifest) {
  {
    DesiredState state = open();
    ASSERT_TRUE(state.deployed("pump", "1", "manifest one\n", {}));
  }
  DesiredState state = reloaded();
  const auto* entry = state.find("pump");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->version, "1");
  EXPECT_FALSE(entry->deleted);
  EXPECT_FALSE(entry->scaling);
  EXPECT_FALSE(entry->candidate);
  auto manifest = state.manifest("pump", "1");
  ASSERT_TRUE(manifest && *manifest);
  EXPECT_EQ((*manifest)->text, "manifest one\n");
  EXPECT_EQ((*manifest)->path, state.manifestPath("pump", "1"));
  EXPECT_TRUE(std::filesystem::exists(state.manifestPath("pump", "1")));
  EXPECT_THAT(state.versions("pump"), ElementsAre("1"));
}

TEST_F(DesiredStateTest, VersionsListsEveryStoredManifestSorted) {
  DesiredState state = open();
  const SignedBundle bundle{"document", "signature"};
  ASSERT_TRUE(state.deployed("pump", "2", "two", {{"model.onnx", kShaA}}));
  ASSERT_TRUE(state.signedWith("pump", "2", bundle, 1));
  ASSERT_TRUE(state.deployed("pump", "1", "one", {}));
  ASSERT_TRUE(state.deployed("pump", "1.5", "one and a half", {}));
  ASSERT_TRUE(state.deployed("valve", "9", "valve", {}));
  // Neither the artifacts file nor the bundle is a version.
  EXPECT_THAT(state.versions("pump"), ElementsAre("1", "1.5", "2"));
  EXPECT_THAT(state.versions("valve"), ElementsAre("9"));
}

TEST_F(DesiredStateTest, ADeployEndsTheScaleAndTheRolloutOfBefore) {
  DesiredState state = open();
  ASSERT_TRUE(state.deployed("pump", "1", "one", {}));
  ASSERT_TRUE(state.scaled("pump", "1", someScaling()));
  ASSERT_TRUE(state.candidate("pump", "1", "2", "two", {}, somePolicy()));
  ASSERT_TRUE(state.deployed("pump", "3", "three", {}));
  DesiredState again = reloaded();
  const auto* entry = again.find("pump");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->version, "3");
  EXPECT_FALSE(entry->scaling) << "the manifest's scaling again";
  EXPECT_FALSE(entry->candidate);
}

TEST_F(DesiredStateTest, AScaleIsKeptWithEveryField) {
  DesiredState state = open();
  ASSERT_TRUE(state.deleted("pump"));
  ASSERT_TRUE(state.scaled("pump", "7", someScaling()));  // a config-folder version, serving
  DesiredState again = reloaded();
  const auto* entry = again.find("pump");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->version, "7");
  EXPECT_FALSE(entry->deleted);
  ASSERT_TRUE(entry->scaling);
  EXPECT_EQ(entry->scaling->min, 2);
  EXPECT_EQ(entry->scaling->max, 9);
  EXPECT_EQ(entry->scaling->target_concurrency, 4);
  EXPECT_EQ(entry->scaling->idle_timeout, std::chrono::milliseconds(1234));
  EXPECT_TRUE(entry->scaling->prewarm);
  EXPECT_FALSE(again.manifest("pump", "7").value()) << "a scale stores no manifest";
}

TEST_F(DesiredStateTest, ScalingJsonNamesTheApiFields) {
  EXPECT_EQ(scalingJson(someScaling()), (nlohmann::json{{"min", 2},
                                                        {"max", 9},
                                                        {"targetConcurrency", 4},
                                                        {"idleTimeoutMs", 1234},
                                                        {"prewarm", true}}));
}

TEST_F(DesiredStateTest, ADeleteIsKeptAndTheStoredVersionsStay) {
  DesiredState state = open();
  ASSERT_TRUE(state.deployed("pump", "1", "one", {}));
  ASSERT_TRUE(state.scaled("pump", "1", someScaling()));
  ASSERT_TRUE(state.deleted("pump"));
  DesiredState again = reloaded();
  const auto* entry = again.find("pump");
  ASSERT_NE(entry, nullptr) << "a delete is the API's word too";
  EXPECT_TRUE(entry->deleted);
  EXPECT_EQ(entry->version, "");
  EXPECT_FALSE(entry->scaling);
  EXPECT_THAT(again.versions("pump"), ElementsAre("1")) << "kept for switching back";
}

TEST_F(DesiredStateTest, AResetForgetsTheNameButNotItsSignedRelease) {
  DesiredState state = open();
  ASSERT_TRUE(state.signedWith("pump", "1", SignedBundle{"doc", "sig"}, 4));
  ASSERT_TRUE(state.deployed("pump", "1", "one", {}));
  ASSERT_TRUE(state.deployed("valve", "1", "valve", {}));
  ASSERT_TRUE(state.reset("pump"));
  DesiredState again = reloaded();
  EXPECT_EQ(again.find("pump"), nullptr);
  EXPECT_NE(again.find("valve"), nullptr);
  EXPECT_EQ(again.signedSequence("pump"), 4);
  ASSERT_TRUE(again.deleted("pump"));
  EXPECT_EQ(reloaded().signedSequence("pump"), 4);
}

TEST_F(DesiredStateTest, TheSignedSequenceOnlyRisesAndIsDurableWithTheNextChange) {
  DesiredState state = open();
  const SignedBundle first{"bundle 5", "sig 5"};
  ASSERT_TRUE(state.signedWith("pump", "5", first, 5));
  ASSERT_TRUE(state.signedWith("pump", "3", SignedBundle{"bundle 3", "sig 3"}, 3));
  EXPECT_EQ(state.signedSequence("pump"), 5);
  EXPECT_EQ(state.signedSequence("valve"), 0);
  auto kept = state.bundle("pump", "5");
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->document, "bundle 5");
  EXPECT_EQ((*kept)->signature, "sig 5");

  ASSERT_TRUE(state.deployed("pump", "5", "five", {}));
  EXPECT_EQ(reloaded().signedSequence("pump"), 5);
}

TEST_F(DesiredStateTest, ABundleWithoutItsSignatureIsAnError) {
  DesiredState state = open();
  ASSERT_TRUE(state.signedWith("pump", "1", SignedBundle{"doc", "sig"}, 1));
  const auto signature = dir_.path() / "control" / "functions" / "pump" / "1.bundle.sig";
  ASSERT_TRUE(std::filesystem::remove(signature));
  EXPECT_FALSE(state.bundle("pump", "1"));
}

TEST_F(DesiredStateTest, ARolloutIsKeptWithItsPolicy) {
  DesiredState state = open();
  ASSERT_TRUE(state.deployed("pump", "1", "one", {}));
  ASSERT_TRUE(state.candidate("pump", "1", "2", "two", {{"model.onnx", kShaA}}, somePolicy()));
  DesiredState again = reloaded();
  const auto* entry = again.find("pump");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->version, "1") << "the serving version";
  ASSERT_TRUE(entry->candidate);
  EXPECT_EQ(entry->candidate->version, "2");
  const RolloutPolicy& p = entry->candidate->policy;
  EXPECT_EQ(p.strategy, RolloutPolicy::Strategy::kShadow);
  EXPECT_EQ(p.weight, 35);
  EXPECT_DOUBLE_EQ(p.max_error_rate, 0.25);
  EXPECT_DOUBLE_EQ(p.max_p99_ms, 12.5);
  EXPECT_EQ(p.min_invocations, 77u);
  EXPECT_EQ(again.manifest("pump", "2").value()->text, "two");
  EXPECT_EQ(again.artifacts("pump", "2").value(), (ArtifactRefs{{"model.onnx", kShaA}}));
}

TEST_F(DesiredStateTest, ACandidateBesideAFolderVersionMakesTheNameTheApis) {
  DesiredState state = open();
  ASSERT_TRUE(state.candidate("pump", "1", "2", "two", {}, RolloutPolicy{}));
  DesiredState again = reloaded();
  const auto* entry = again.find("pump");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->version, "1");
  EXPECT_FALSE(entry->deleted);
}

TEST_F(DesiredStateTest, APolicyChangeIsKept) {
  DesiredState state = open();
  ASSERT_TRUE(state.candidate("pump", "1", "2", "two", {}, RolloutPolicy{}));
  ASSERT_TRUE(state.rolloutChanged("pump", somePolicy()));
  DesiredState again = reloaded();
  const auto* entry = again.find("pump");
  ASSERT_TRUE(entry && entry->candidate);
  EXPECT_EQ(entry->candidate->policy.weight, 35);
  EXPECT_EQ(entry->candidate->policy.strategy, RolloutPolicy::Strategy::kShadow);
}

TEST_F(DesiredStateTest, PromotingMakesTheCandidateServeAtItsManifestsScaling) {
  DesiredState state = open();
  ASSERT_TRUE(state.scaled("pump", "1", someScaling()));
  ASSERT_TRUE(state.candidate("pump", "1", "2", "two", {}, somePolicy()));
  ASSERT_TRUE(state.promoted("pump"));
  DesiredState again = reloaded();
  const auto* entry = again.find("pump");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->version, "2");
  EXPECT_FALSE(entry->candidate);
  EXPECT_FALSE(entry->scaling);
}

TEST_F(DesiredStateTest, ACandidateGoneLeavesTheServingVersion) {
  DesiredState state = open();
  ASSERT_TRUE(state.scaled("pump", "1", someScaling()));
  ASSERT_TRUE(state.candidate("pump", "1", "2", "two", {}, somePolicy()));
  ASSERT_TRUE(state.candidateGone("pump"));
  DesiredState again = reloaded();
  const auto* entry = again.find("pump");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->version, "1");
  EXPECT_FALSE(entry->candidate);
  EXPECT_TRUE(entry->scaling);
  EXPECT_THAT(again.versions("pump"), ElementsAre("2")) << "its manifest stays";
}

TEST_F(DesiredStateTest, RolloutChangesWithoutARolloutChangeNothing) {
  DesiredState state = open();
  ASSERT_TRUE(state.deployed("valve", "1", "one", {}));
  ASSERT_TRUE(state.rolloutChanged("pump", somePolicy()));
  ASSERT_TRUE(state.promoted("pump"));
  ASSERT_TRUE(state.candidateGone("pump"));
  ASSERT_TRUE(state.promoted("valve"));
  DesiredState again = reloaded();
  EXPECT_EQ(again.find("pump"), nullptr) << "no entry made up for a name without a rollout";
  ASSERT_NE(again.find("valve"), nullptr);
  EXPECT_EQ(again.find("valve")->version, "1");
}

TEST_F(DesiredStateTest, ArtifactsAreKeptPerVersionAndTheirUsersFound) {
  DesiredState state = open();
  ASSERT_TRUE(state.deployed("pump", "1", "one", {{"model.onnx", kShaA}}));
  ASSERT_TRUE(state.deployed("pump", "2", "two", {{"model.onnx", kShaB}, {"lib/x.py", kShaA}}));
  ASSERT_TRUE(state.deployed("fan", "1", "fan", {{"bin/run", kShaA}}));
  ASSERT_TRUE(state.deployed("valve", "1", "valve", {}));
  DesiredState again = reloaded();
  EXPECT_EQ(again.artifacts("pump", "2").value(),
            (ArtifactRefs{{"model.onnx", kShaB}, {"lib/x.py", kShaA}}));
  EXPECT_THAT(again.artifacts("valve", "1").value(), IsEmpty());
  EXPECT_THAT(again.artifactUsers(kShaA),
              ElementsAre("fan@1 (bin/run)", "pump@1 (model.onnx)", "pump@2 (lib/x.py)"));
  EXPECT_THAT(again.artifactUsers(kShaB), ElementsAre("pump@2 (model.onnx)"));
  EXPECT_THAT(again.artifactUsers(std::string(64, 'c')), IsEmpty());
  EXPECT_EQ(again.filesDir("pump", "2"),
            (dir_.path() / "control" / "functions" / "pump" / "2.files").string());
}

TEST_F(DesiredStateTest, UnreadableArtifactsAreCorrupt) {
  DesiredState state = open();
  ASSERT_TRUE(state.deployed("pump", "1", "one", {{"model.onnx", kShaA}}));
  const auto refs = dir_.path() / "control" / "functions" / "pump" / "1.artifacts.json";
  ASSERT_TRUE(std::filesystem::exists(refs));
  std::ofstream(refs) << "{not json";
  auto read = state.artifacts("pump", "1");
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, Errc::kCorrupt);
  EXPECT_EQ(read.error().where, refs.string());
  EXPECT_THAT(read.error().message, HasSubstr("pump@1"));
}

TEST_F(DesiredStateTest, ACorruptFileIsRefusedSayingWhatToDo) {
  const std::string file = (dir_.path() / "control" / "desired.json").string();
  for (const std::string text :
       {"{not json", "[]", R"({"sequences": {}})",
        R"({"functions": {"pump": {"version": "1", "scaling": {"min": 1}}}})",
        R"({"functions": {"pump": {"version": 7}}})",
        R"({"functions": {"pump": {"version": "1", "candidate": {"version": "2", "policy":
            {"strategy": "linear", "weight": 1, "maxErrorRate": 0, "maxLatencyMs": 0,
             "minInvocations": 1}}}}})"}) {
    writeDesired(text);
    auto loaded = DesiredState::load(dir_.str());
    ASSERT_FALSE(loaded) << text;
    EXPECT_EQ(loaded.error().code, Errc::kCorrupt) << text;
    EXPECT_EQ(loaded.error().where, file);
    EXPECT_THAT(loaded.error().message, HasSubstr("fix or remove the file")) << text;
  }
}

TEST_F(DesiredStateTest, AFileWithoutOptionalFieldsLoads) {
  writeDesired(R"({"functions": {"pump": {"version": "3"}, "fan": {"deleted": true,
                   "scaling": null, "candidate": null}}})");
  DesiredState state = open();
  ASSERT_NE(state.find("pump"), nullptr);
  EXPECT_EQ(state.find("pump")->version, "3");
  EXPECT_FALSE(state.find("pump")->deleted);
  ASSERT_NE(state.find("fan"), nullptr);
  EXPECT_TRUE(state.find("fan")->deleted);
  EXPECT_EQ(state.signedSequence("pump"), 0);
}

TEST_F(DesiredStateTest, AFailedWriteIsAnError) {
  DesiredState state = open();
  // A folder where desired.json goes: the rename over it fails.
  std::filesystem::create_directories(dir_.path() / "control" / "desired.json" / "x");
  EXPECT_FALSE(state.deleted("pump"));
}

TEST_F(DesiredStateTest, AChangeThatCannotBeKeptIsAnErrorAndForgotten) {
  sie::testing::FaultyEnv env;
  auto loaded = DesiredState::load(dir_.str(), env);
  ASSERT_TRUE(loaded) << loaded.error().str();
  DesiredState state = std::move(loaded).value();
  ASSERT_TRUE(state.deployed("pump", "1", "manifest one\n", {}));
  ASSERT_TRUE(state.scaled("pump", "1", someScaling()));

  env.failSyncs();
  auto deleted = state.deleted("pump");
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, Errc::kIo);
  EXPECT_THAT(deleted.error().str(), HasSubstr("cannot sync: Input/output error"));
  ASSERT_NE(state.find("pump"), nullptr);
  EXPECT_FALSE(state.find("pump")->deleted) << "what the object says is what the disk holds";
  EXPECT_TRUE(state.find("pump")->scaling);

  env.heal();
  env.diskFullAfter(4);
  auto deployed = state.deployed("pump", "2", "manifest two\n", {});
  ASSERT_FALSE(deployed);
  EXPECT_THAT(deployed.error().str(), HasSubstr("No space left on device"));
  EXPECT_EQ(state.find("pump")->version, "1");

  env.heal();
  DesiredState again = reloaded();
  ASSERT_NE(again.find("pump"), nullptr);
  EXPECT_EQ(again.find("pump")->version, "1");
  EXPECT_FALSE(again.find("pump")->deleted);
  EXPECT_EQ(again.find("pump")->scaling->max, 9);
}

}  // namespace
}  // namespace sie::node
