// ControlPlane: deploys, rollouts, deletes and scales on a running table — checked before
// anything changes, audited, durable across a restart (a new table and plane over the same data
// folder), serialized per name; the config folder's functions overlaid by the API's word.
#include "control/control_plane.h"

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/function_bundle.h"
#include "core/sha256.h"
#include "core/signing.h"
#include "faulty_env.h"
#include "runtime_schemas.h"
#include "table_harness.h"
#include "wait_until.h"

namespace sie::node {
namespace {

using sie::testing::waitUntil;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using testing::TableHarness;
using testing::TestDir;

// A manifest of the scripted runtime; `extra` is appended to spec (indented two spaces).
std::string manifestOf(const std::string& name, const std::string& version, double score = 0,
                       const std::string& extra = "") {
  return fmt::format(R"(apiVersion: sie/v1
kind: Function
metadata: {{name: {}, version: "{}"}}
spec:
  runtime: scripted
  handler: answer
  triggers: [plant/#]
  params: {{score: {}}}
  scaling: {{min: 0, max: 2}}
{})",
                     name, version, score, extra);
}

DeployRequest requestOf(std::string text) {
  DeployRequest r;
  r.text = std::move(text);
  r.actor = "alice";
  return r;
}

RolloutPolicy canaryOf(int weight, std::uint64_t min_invocations = 20) {
  RolloutPolicy p;
  p.strategy = RolloutPolicy::Strategy::kCanary;
  p.weight = weight;
  p.min_invocations = min_invocations;
  return p;
}

// A node's table and control plane over one data folder; made again for a restart.
struct PlaneNode {
  PlaneNode(const std::string& data_dir, bool require_signatures, const Env& env)
      : h("control-table") {
    auto desired = DesiredState::load(data_dir, env);
    EXPECT_TRUE(desired) << desired.error().str();
    ArtifactStore store(data_dir);
    EXPECT_TRUE(store.prepare());
    plane = std::make_unique<ControlPlane>(h.table(), h.state().audit(), std::move(desired).value(),
                                           ArtifactTrust(data_dir + "/keys", require_signatures),
                                           std::move(store));
  }
  TableHarness h;
  std::unique_ptr<ControlPlane> plane;  // goes before the table it was given
};

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(boot()); }

  // Starts (or restarts) the node over the data folder with `site` as its config folder.
  Status boot(const std::vector<SourceText>& site = {}, bool require_signatures = false) {
    node_.reset();
    node_ = std::make_unique<PlaneNode>(data_.str(), require_signatures, env_);
    return node_->plane->load(site);
  }
  ControlPlane& plane() { return *node_->plane; }
  FunctionTable& table() { return node_->h.table(); }
  TableHarness& harness() { return node_->h; }
  // The version serving `name`, "" for none.
  std::string serving(const std::string& name) {
    auto runner = table().find(name);
    return runner ? runner->spec().version : "";
  }
  // The "control" audit records of `subject` since the node started: event (actor) detail.
  std::vector<nlohmann::json> audited(const std::string& subject) {
    auto records = harness().state().audit().tail(1000);
    EXPECT_TRUE(records) << records.error().str();
    std::vector<nlohmann::json> out;
    for (const auto& r : records.value_or(std::vector<AuditRecord>{})) {
      if (r.kind == "control" && r.subject == subject) out.push_back(nlohmann::json::parse(r.body));
    }
    return out;
  }
  std::vector<std::string> auditedEvents(const std::string& subject) {
    std::vector<std::string> out;
    for (const auto& body : audited(subject)) out.push_back(body["event"]);
    return out;
  }
  const DesiredState::Entry* desired(const std::string& name) {
    auto loaded = DesiredState::load(data_.str());
    EXPECT_TRUE(loaded) << loaded.error().str();
    kept_ = std::make_unique<DesiredState>(std::move(loaded).value());
    return kept_->find(name);
  }
  void deployOk(const std::string& text) {
    auto deployed = plane().deploy(requestOf(text));
    ASSERT_TRUE(deployed) << deployed.error().error.str();
  }
  static SourceText siteFile(const std::string& name, const std::string& text) {
    return {"functions/" + name + ".yaml", text};
  }
  // Stores a file named `name` with `bytes` as an uploaded artifact; returns its SHA-256.
  std::string upload(const std::string& name, const std::string& bytes) {
    ArtifactStore store(data_.str());
    const std::string spooled = store.incomingDir() + "/upload-" + name;
    std::ofstream(spooled) << bytes;
    auto added = store.add(spooled, name, "", false, "");
    EXPECT_TRUE(added) << added.error().str();
    return added ? added->artifact.sha256 : "";
  }

  TestDir data_{"control"};
  sie::testing::FaultyEnv env_;  // the node's writes to the data folder
  std::unique_ptr<PlaneNode> node_;
  std::unique_ptr<DesiredState> kept_;
};

TEST_F(ControlPlaneTest, ADeployServesAuditsAndIsKept) {
  auto deployed = plane().deploy(requestOf(manifestOf("pump", "1")));
  ASSERT_TRUE(deployed) << deployed.error().error.str();
  EXPECT_EQ(deployed->name, "pump");
  EXPECT_EQ(deployed->version, "1");
  EXPECT_EQ(deployed->previous, "");
  EXPECT_TRUE(deployed->changed);
  EXPECT_EQ(serving("pump"), "1");
  EXPECT_EQ(plane().origin("pump"), "api");
  EXPECT_THAT(plane().versions("pump"), ElementsAre("1"));
  const auto* entry = desired("pump");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->version, "1");

  auto second = plane().deploy(requestOf(manifestOf("pump", "2")));
  ASSERT_TRUE(second) << second.error().error.str();
  EXPECT_EQ(second->previous, "1");
  const auto records = audited("pump");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1]["event"], "deployed");
  EXPECT_EQ(records[1]["actor"], "alice");
  EXPECT_EQ(records[1]["decision"], "allow");
  EXPECT_EQ(records[1]["detail"], "2 (was 1)");
}

TEST_F(ControlPlaneTest, ABrokenManifestIsRefusedNamingTheRequest) {
  auto missing =
      plane().deploy(requestOf("apiVersion: sie/v1\nkind: Function\nmetadata: {name: pump}\n"
                               "spec: {runtime: scripted, handler: answer}\n"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ControlErrc::kInvalid);
  EXPECT_THAT(missing.error().error.message, HasSubstr("spec.triggers"));
  EXPECT_THAT(missing.error().error.where, StartsWith("request"));

  auto two = plane().deploy(requestOf(manifestOf("a", "1") + "---\n" + manifestOf("b", "1")));
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code, ControlErrc::kInvalid);
  EXPECT_THAT(two.error().error.message, HasSubstr("holds 2 functions"));
  EXPECT_EQ(table().find("a"), nullptr);
  EXPECT_THAT(auditedEvents("a"), IsEmpty());
}

TEST_F(ControlPlaneTest, AVersionIsImmutable) {
  deployOk(manifestOf("pump", "1"));
  auto same = plane().deploy(requestOf(manifestOf("pump", "1")));
  ASSERT_TRUE(same) << same.error().error.str();
  EXPECT_FALSE(same->changed);
  EXPECT_EQ(same->previous, "1");

  auto changed = plane().deploy(requestOf(manifestOf("pump", "1", 0.9)));
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().code, ControlErrc::kConflict);
  EXPECT_THAT(changed.error().error.message, HasSubstr("bump metadata.version"));
  EXPECT_DOUBLE_EQ(table().find("pump")->spec().params.at("score"), 0.0);
  EXPECT_THAT(auditedEvents("pump"), ElementsAre("deployed"));
}

TEST_F(ControlPlaneTest, IfMatchDeploysOnlyOverTheExpectedVersion) {
  DeployRequest first = requestOf(manifestOf("pump", "1"));
  first.expect_version = "0";
  auto refused = plane().deploy(first);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ControlErrc::kConflict);
  EXPECT_THAT(refused.error().error.message, HasSubstr("serves version 'none', not '0'"));

  deployOk(manifestOf("pump", "1"));
  DeployRequest next = requestOf(manifestOf("pump", "2"));
  next.expect_version = "7";
  EXPECT_EQ(plane().deploy(next).error().code, ControlErrc::kConflict);
  EXPECT_EQ(serving("pump"), "1");
  next.expect_version = "1";
  ASSERT_TRUE(plane().deploy(next));
  EXPECT_EQ(serving("pump"), "2");
}

TEST_F(ControlPlaneTest, ARefusedDeployChangesNothing) {
  deployOk(manifestOf("pump", "1"));
  std::string invalid = manifestOf("pump", "2");
  invalid.replace(invalid.find("handler: answer"), 15, "handler: invalid");
  auto refused = plane().deploy(requestOf(invalid));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ControlErrc::kInvalid);
  EXPECT_THAT(refused.error().error.where, StartsWith("request")) << "not the stored copy's path";
  EXPECT_EQ(serving("pump"), "1");
  EXPECT_EQ(desired("pump")->version, "1");
  EXPECT_THAT(auditedEvents("pump"), ElementsAre("deployed"));

  std::string unknown = manifestOf("pump", "3");
  unknown.replace(unknown.find("runtime: scripted"), 17, "runtime: nope");
  auto no_runtime = plane().deploy(requestOf(unknown));
  ASSERT_FALSE(no_runtime);
  EXPECT_EQ(no_runtime.error().code, ControlErrc::kInvalid);
  EXPECT_EQ(serving("pump"), "1");
}

TEST_F(ControlPlaneTest, AnEscalationToAMissingFunctionIsNotFound) {
  auto refused = plane().deploy(requestOf(
      manifestOf("small", "1", 0, "  escalate: {to: big, band: [0.3, 0.7], deadline: 20ms}\n")));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ControlErrc::kNotFound);
  EXPECT_THAT(refused.error().error.message, HasSubstr("'big'"));
  EXPECT_EQ(table().find("small"), nullptr);
}

TEST_F(ControlPlaneTest, AFolderVersionCannotBeReplacedUnderItsOwnVersion) {
  ASSERT_TRUE(boot({siteFile("pump", manifestOf("pump", "1"))}));
  EXPECT_EQ(plane().origin("pump"), "site");
  EXPECT_THAT(plane().versions("pump"), ElementsAre("1"));
  auto refused = plane().deploy(requestOf(manifestOf("pump", "1", 0.5)));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ControlErrc::kConflict);
  EXPECT_THAT(refused.error().error.message, HasSubstr("already serves"));
  EXPECT_EQ(plane().origin("pump"), "site");
}

TEST_F(ControlPlaneTest, ChangesOfOneNameAreSerialized) {
  deployOk(manifestOf("pump", "1"));
  ASSERT_TRUE(table().start());  // from now on a deploy warms before it serves
  harness().runtime().hold();
  std::string gated = manifestOf("pump", "2");
  gated.replace(gated.find("handler: answer"), 15, "handler: gated");
  gated.replace(gated.find("{min: 0, max: 2}"), 16, "{min: 1, max: 2}");
  auto slow = std::async(std::launch::async, [&] { return plane().deploy(requestOf(gated)); });
  ASSERT_TRUE(waitUntil([&] { return harness().runtime().waiting() == 1; }));

  // Each competing change answers at once (were it let through, it would wait for the first).
  auto competing = std::async(std::launch::async, [&] {
    std::vector<ControlErrc> codes;
    const auto code = [](const auto& result) {
      return result ? ControlErrc::kInternal : result.error().code;
    };
    codes.push_back(code(plane().deploy(requestOf(manifestOf("pump", "3")))));
    codes.push_back(code(plane().remove("pump", false, "bob")));
    codes.push_back(code(plane().scale("pump", ScalingPolicy{}, "bob")));
    codes.push_back(code(plane().removeArtifact(std::string(64, 'a'), "bob")));
    return codes;
  });
  const bool answered = competing.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  EXPECT_EQ(serving("pump"), "1") << "still warming";
  harness().runtime().release();
  ASSERT_TRUE(answered) << "a change of the same name waited for the one in progress";
  EXPECT_THAT(competing.get(), ::testing::Each(ControlErrc::kConflict));
  auto done = slow.get();
  ASSERT_TRUE(done) << done.error().error.str();
  EXPECT_EQ(done->previous, "1");
  EXPECT_EQ(serving("pump"), "2");
  deployOk(manifestOf("pump", "4"));  // the name is free again
}

TEST_F(ControlPlaneTest, ADeleteIsKeptAcrossARestart) {
  EXPECT_EQ(plane().remove("pump", false, "bob").error().code, ControlErrc::kNotFound);
  const std::vector<SourceText> site{siteFile("pump", manifestOf("pump", "1")),
                                     siteFile("valve", manifestOf("valve", "1"))};
  ASSERT_TRUE(boot(site));
  ASSERT_TRUE(plane().remove("pump", false, "bob"));
  EXPECT_EQ(table().find("pump"), nullptr);
  EXPECT_TRUE(desired("pump")->deleted);
  EXPECT_THAT(auditedEvents("pump"), ElementsAre("deleted"));

  ASSERT_TRUE(boot(site));
  EXPECT_EQ(table().find("pump"), nullptr) << "the config folder does not bring it back";
  EXPECT_EQ(serving("valve"), "1");
}

TEST_F(ControlPlaneTest, AResetHandsTheNameBackToTheConfigFolder) {
  const std::vector<SourceText> site{siteFile("pump", manifestOf("pump", "1"))};
  ASSERT_TRUE(boot(site));
  deployOk(manifestOf("pump", "2"));
  EXPECT_EQ(plane().origin("pump"), "api");
  EXPECT_THAT(plane().versions("pump"), ElementsAre("1", "2"));

  ASSERT_TRUE(plane().remove("pump", true, "bob"));
  EXPECT_EQ(serving("pump"), "1");
  EXPECT_EQ(plane().origin("pump"), "site");
  EXPECT_EQ(desired("pump"), nullptr);
  const auto records = audited("pump");
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back()["event"], "reset");
  EXPECT_EQ(records.back()["detail"], "config folder version 1");

  ASSERT_TRUE(boot(site));
  EXPECT_EQ(serving("pump"), "1");
}

TEST_F(ControlPlaneTest, TheApisWordOutlivesARestartWhateverTheFolderHolds) {
  const std::vector<SourceText> site{siteFile("pump", manifestOf("pump", "1")),
                                     siteFile("valve", manifestOf("valve", "4"))};
  ASSERT_TRUE(boot(site));
  deployOk(manifestOf("pump", "2"));
  deployOk(manifestOf("fan", "1"));
  ASSERT_TRUE(boot(site));
  EXPECT_EQ(serving("pump"), "2");
  EXPECT_EQ(serving("valve"), "4");
  EXPECT_EQ(serving("fan"), "1");
}

TEST_F(ControlPlaneTest, ScaleChecksItsBoundsAndIsKeptAcrossARestart) {
  const auto scaling = [](int min, int max, int target) {
    ScalingPolicy s;
    s.min = min;
    s.max = max;
    s.target_concurrency = target;
    return s;
  };
  EXPECT_EQ(plane().scale("pump", scaling(0, 2, 1), "bob").error().code, ControlErrc::kNotFound);
  const std::vector<SourceText> site{siteFile("pump", manifestOf("pump", "1"))};
  ASSERT_TRUE(boot(site));
  for (const auto& bad : {scaling(-1, 2, 1), scaling(3, 2, 1), scaling(0, 0, 1),
                          scaling(0, 1001, 1), scaling(0, 2, 0)}) {
    auto refused = plane().scale("pump", bad, "bob");
    ASSERT_FALSE(refused) << bad.min << " " << bad.max << " " << bad.target_concurrency;
    EXPECT_EQ(refused.error().code, ControlErrc::kInvalid);
  }
  EXPECT_EQ(plane().origin("pump"), "site") << "a refused scale changes nothing";

  auto scaled = plane().scale("pump", scaling(0, 5, 3), "bob");
  ASSERT_TRUE(scaled) << scaled.error().error.str();
  EXPECT_EQ(table().find("pump")->pool().scaling().max, 5);
  EXPECT_EQ(plane().origin("pump"), "api");
  EXPECT_THAT(auditedEvents("pump"), ElementsAre("scaled"));

  ASSERT_TRUE(boot(site));
  EXPECT_EQ(serving("pump"), "1");
  EXPECT_EQ(table().find("pump")->pool().scaling().max, 5);
  EXPECT_EQ(table().find("pump")->pool().scaling().target_concurrency, 3);
}

TEST_F(ControlPlaneTest, AScaledFolderFunctionFollowsTheFoldersNewVersionAtItsScale) {
  ASSERT_TRUE(boot({siteFile("pump", manifestOf("pump", "1"))}));
  ScalingPolicy scaling;
  scaling.max = 7;
  ASSERT_TRUE(plane().scale("pump", scaling, "bob"));

  auto restarted = boot({siteFile("pump", manifestOf("pump", "2"))});
  ASSERT_TRUE(restarted) << restarted.error().str();
  EXPECT_EQ(serving("pump"), "2");
  EXPECT_EQ(table().find("pump")->pool().scaling().max, 7);
}

TEST_F(ControlPlaneTest, AnEscalationTargetCannotBeDeletedFromUnderItsCaller) {
  const std::vector<SourceText> site{siteFile("big", manifestOf("big", "1"))};
  ASSERT_TRUE(boot(site));
  deployOk(
      manifestOf("small", "1", 0, "  escalate: {to: big, band: [0.3, 0.7], deadline: 20ms}\n"));
  auto refused = plane().remove("big", false, "bob");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ControlErrc::kConflict);
  EXPECT_THAT(refused.error().error.message, HasSubstr("escalation target of small@1"));
  EXPECT_EQ(serving("big"), "1");
  ASSERT_TRUE(plane().remove("big", true, "bob")) << "a reset keeps the name served";

  ASSERT_TRUE(plane().remove("small", false, "bob"));
  ASSERT_TRUE(plane().remove("big", false, "bob")) << "nothing escalates to it any more";
  auto restarted = boot(site);
  ASSERT_TRUE(restarted) << restarted.error().str();
  EXPECT_EQ(table().find("big"), nullptr);
}

TEST_F(ControlPlaneTest, ARolloutPolicyIsCheckedWhenNothingServesYet) {
  DeployRequest first = requestOf(manifestOf("pump", "1"));
  first.rollout = canaryOf(150);
  auto refused = plane().deploy(first);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ControlErrc::kInvalid);
  EXPECT_EQ(table().find("pump"), nullptr);

  first.rollout = canaryOf(10);
  auto deployed = plane().deploy(first);
  ASSERT_TRUE(deployed) << deployed.error().error.str();
  EXPECT_EQ(serving("pump"), "1") << "with nothing serving, the first version serves outright";
  EXPECT_FALSE(table().rollout("pump"));
}

TEST_F(ControlPlaneTest, AChangeTheDiskCannotKeepIsUndone) {
  deployOk(manifestOf("pump", "1"));
  env_.failSyncs();
  auto refused = plane().deploy(requestOf(manifestOf("pump", "2")));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ControlErrc::kInternal);
  EXPECT_THAT(refused.error().error.message,
              HasSubstr("pump@2 was not deployed: the desired state could not be kept"));
  EXPECT_THAT(refused.error().error.message, HasSubstr("Input/output error"));
  EXPECT_EQ(serving("pump"), "1") << "what serves is what a restart would serve";

  DeployRequest candidate = requestOf(manifestOf("pump", "3"));
  candidate.rollout = canaryOf(10);
  ASSERT_FALSE(plane().deploy(candidate));
  EXPECT_FALSE(table().rollout("pump"));
  ASSERT_FALSE(plane().deploy(requestOf(manifestOf("fan", "1"))));
  EXPECT_EQ(table().find("fan"), nullptr);
  ASSERT_FALSE(plane().remove("pump", false, "bob"));
  EXPECT_EQ(serving("pump"), "1");

  env_.heal();
  ASSERT_TRUE(boot());
  EXPECT_EQ(serving("pump"), "1");
  EXPECT_EQ(table().find("fan"), nullptr);
  EXPECT_THAT(plane().versions("pump"), ElementsAre("1"));
  deployOk(manifestOf("pump", "2"));  // the refused version can be deployed once the disk works
}

TEST_F(ControlPlaneTest, AnArtifactItsFolderCannotKeepIsNotStored) {
  ArtifactStore store(data_.str(), 0, env_);
  ASSERT_TRUE(store.prepare());
  const std::string spooled = store.incomingDir() + "/upload-model";
  std::ofstream(spooled) << "model bytes";
  env_.failSyncsAfter(1);  // the file's sync works, its folder's fails
  auto added = store.add(spooled, "model.onnx", "", false, "");
  ASSERT_FALSE(added);
  EXPECT_THAT(added.error().str(), HasSubstr("cannot sync"));
  auto listed = store.list();
  ASSERT_TRUE(listed) << listed.error().str();
  EXPECT_THAT(*listed, IsEmpty()) << "not durable, so not stored: a retry stores it again";

  env_.heal();
  std::ofstream(spooled) << "model bytes";
  auto again = store.add(spooled, "model.onnx", "", false, "");
  ASSERT_TRUE(again) << again.error().str();
  EXPECT_TRUE(again->created);
}

TEST_F(ControlPlaneTest, ARolloutRunsSurvivesARestartAndIsPromoted) {
  deployOk(manifestOf("pump", "1"));
  DeployRequest candidate = requestOf(manifestOf("pump", "2"));
  candidate.rollout = canaryOf(10);
  auto started = plane().deploy(candidate);
  ASSERT_TRUE(started) << started.error().error.str();
  EXPECT_EQ(started->previous, "1");
  EXPECT_EQ(serving("pump"), "1");
  ASSERT_TRUE(table().rollout("pump"));
  EXPECT_EQ(table().rollout("pump")->candidate, "pump@2");
  ASSERT_TRUE(desired("pump")->candidate);

  ASSERT_TRUE(boot());
  auto restored = table().rollout("pump");
  ASSERT_TRUE(restored) << "a running rollout survives a restart";
  EXPECT_EQ(restored->candidate, "pump@2");
  EXPECT_EQ(restored->policy.weight, 10);

  ASSERT_TRUE(plane().setRollout("pump", canaryOf(60), "bob"));
  EXPECT_EQ(table().rollout("pump")->policy.weight, 60);
  EXPECT_EQ(desired("pump")->candidate->policy.weight, 60);

  auto promoted = plane().promote("pump", "bob");
  ASSERT_TRUE(promoted) << promoted.error().error.str();
  EXPECT_EQ(*promoted, "2");
  EXPECT_EQ(serving("pump"), "2");
  EXPECT_EQ(desired("pump")->version, "2");
  EXPECT_FALSE(desired("pump")->candidate);
  EXPECT_THAT(auditedEvents("pump"), ElementsAre("rollout changed", "promoted"));

  ASSERT_TRUE(boot());
  EXPECT_EQ(serving("pump"), "2");
  EXPECT_FALSE(table().rollout("pump"));
}

TEST_F(ControlPlaneTest, AnAbortedRolloutIsForgotten) {
  deployOk(manifestOf("pump", "1"));
  DeployRequest candidate = requestOf(manifestOf("pump", "2"));
  candidate.rollout = canaryOf(10);
  ASSERT_TRUE(plane().deploy(candidate));
  auto aborted = plane().abortRollout("pump", "bob");
  ASSERT_TRUE(aborted) << aborted.error().error.str();
  EXPECT_EQ(*aborted, "2");
  EXPECT_EQ(serving("pump"), "1");
  EXPECT_FALSE(desired("pump")->candidate);
  EXPECT_THAT(auditedEvents("pump"), ElementsAre("deployed", "rollout started", "rollout aborted"));
  ASSERT_TRUE(boot());
  EXPECT_FALSE(table().rollout("pump"));
  EXPECT_EQ(serving("pump"), "1");
}

TEST_F(ControlPlaneTest, RolloutCallsWithoutARolloutAreNotFound) {
  deployOk(manifestOf("pump", "1"));
  EXPECT_EQ(plane().promote("pump", "bob").error().code, ControlErrc::kNotFound);
  EXPECT_EQ(plane().abortRollout("pump", "bob").error().code, ControlErrc::kNotFound);
  EXPECT_EQ(plane().setRollout("pump", canaryOf(5), "bob").error().code, ControlErrc::kNotFound);
  EXPECT_THAT(auditedEvents("pump"), ElementsAre("deployed"));
}

TEST_F(ControlPlaneTest, ARolloutWithABadPolicyIsRefused) {
  deployOk(manifestOf("pump", "1"));
  DeployRequest candidate = requestOf(manifestOf("pump", "2"));
  candidate.rollout = canaryOf(101);
  auto refused = plane().deploy(candidate);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ControlErrc::kInvalid);
  EXPECT_EQ(refused.error().error.where, "weight");
  EXPECT_FALSE(table().rollout("pump"));
  EXPECT_FALSE(desired("pump")->candidate);
}

TEST_F(ControlPlaneTest, ARolledBackCandidateIsForgottenAndAudited) {
  deployOk(manifestOf("pump", "1"));
  DeployRequest candidate = requestOf(manifestOf("pump", "2"));
  candidate.text.replace(candidate.text.find("score: 0"), 8, "score: 0, fail: 1");
  candidate.rollout = canaryOf(100, /*min_invocations=*/3);
  ASSERT_TRUE(plane().deploy(candidate));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(harness().send("plant/p" + std::to_string(i) + "/temp"));
  }
  ASSERT_TRUE(harness().drain());
  table().tick();
  EXPECT_FALSE(table().rollout("pump"));
  EXPECT_FALSE(desired("pump")->candidate);
  EXPECT_EQ(desired("pump")->version, "1");
  const auto records = audited("pump");
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back()["event"], "rolled back");
  EXPECT_EQ(records.back()["actor"], "objectives");
  EXPECT_FALSE(records.back().contains("decision")) << "the node's own change";
  EXPECT_THAT(records.back()["detail"].get<std::string>(),
              HasSubstr("2: 3 of 3 invocations failed"));
}

TEST_F(ControlPlaneTest, SwitchToDeploysAStoredVersionAgain) {
  deployOk(manifestOf("pump", "1"));
  deployOk(manifestOf("pump", "2"));
  auto none = plane().switchTo("pump", "9", "bob");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ControlErrc::kNotFound);

  auto back = plane().switchTo("pump", "1", "bob");
  ASSERT_TRUE(back) << back.error().error.str();
  EXPECT_EQ(back->version, "1");
  EXPECT_EQ(back->previous, "2");
  EXPECT_TRUE(back->changed);
  EXPECT_EQ(serving("pump"), "1");
  EXPECT_EQ(desired("pump")->version, "1");

  auto again = plane().switchTo("pump", "1", "bob");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
}

TEST_F(ControlPlaneTest, UploadedArtifactsAreBoundAndKeptWhileAVersionRunsThem) {
  const std::string used = upload("answer", "the handler's bytes");
  const std::string spare = upload("spare.bin", "nobody runs me");
  ASSERT_FALSE(used.empty());

  DeployRequest stray = requestOf(manifestOf("pump", "1"));
  stray.artifacts = {{"other.bin", used}};
  auto refused = plane().deploy(stray);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ControlErrc::kInvalid);
  EXPECT_THAT(refused.error().error.message, HasSubstr("names other.bin"));

  DeployRequest missing = requestOf(manifestOf("pump", "1"));
  missing.artifacts = {{"answer", std::string(64, 'f')}};
  EXPECT_FALSE(plane().deploy(missing));
  EXPECT_EQ(table().find("pump"), nullptr);

  DeployRequest bound = requestOf(manifestOf("pump", "1"));
  bound.artifacts = {{"answer", used}};
  auto deployed = plane().deploy(bound);
  ASSERT_TRUE(deployed) << deployed.error().error.str();
  const std::string base = table().find("pump")->spec().base_dir;
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(base) / "answer")) << base;
  EXPECT_EQ(plane().artifactRefs("pump", "1"), (ArtifactRefs{{"answer", used}}));
  EXPECT_THAT(plane().artifactUsers(used), ElementsAre("pump@1 (answer)"));

  auto in_use = plane().removeArtifact(used, "bob");
  ASSERT_FALSE(in_use);
  EXPECT_EQ(in_use.error().code, ControlErrc::kConflict);
  EXPECT_THAT(in_use.error().error.message, HasSubstr("pump@1 (answer)"));

  ASSERT_TRUE(plane().removeArtifact(spare, "bob"));
  EXPECT_EQ(plane().removeArtifact(spare, "bob").error().code, ControlErrc::kNotFound);
  EXPECT_THAT(auditedEvents("artifacts"), ElementsAre("artifact removed"));

  ASSERT_TRUE(boot());  // a restart lays the same files out again
  EXPECT_EQ(table().find("pump")->spec().base_dir, base);
}

TEST_F(ControlPlaneTest, TheManifestDigestIsOfTheStoredCopy) {
  EXPECT_EQ(plane().manifestSha256("pump", "1"), "");
  const std::string text = manifestOf("pump", "1");
  deployOk(text);
  EXPECT_EQ(plane().manifestSha256("pump", "1"),
            sha256Hex({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}));
}

class SignedControlPlaneTest : public ControlPlaneTest {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(data_.path() / "keys");
    ASSERT_TRUE(generateKeyPair(data_.str() + "/sie.key", data_.str() + "/keys/sie.pub"));
    ASSERT_TRUE(generateKeyPair(data_.str() + "/other.key", data_.str() + "/other.pub"));
    ASSERT_TRUE(boot({}, /*require_signatures=*/true));
  }
  // `text` with its bundle of release `sequence`, signed with `key`.
  DeployRequest signedRequest(const std::string& text, std::int64_t sequence,
                              const std::string& key = "sie.key") {
    DeployRequest r = requestOf(text);
    auto spec = parseManifests({"x.yaml", text}, sie::testing::runtimeSchemas());
    EXPECT_TRUE(spec) << spec.error().str();
    const std::string document = hashBundle(spec->front(), text, sequence).value().text();
    auto signature = signDetached(document, data_.str() + "/" + key);
    EXPECT_TRUE(signature) << signature.error().str();
    r.bundle = SignedBundle{document, signature.value_or("")};
    return r;
  }
};

TEST_F(SignedControlPlaneTest, AnUnsignedOrForeignDeployIsForbidden) {
  auto unsigned_deploy = plane().deploy(requestOf(manifestOf("pump", "1")));
  ASSERT_FALSE(unsigned_deploy);
  EXPECT_EQ(unsigned_deploy.error().code, ControlErrc::kForbidden);
  auto foreign = plane().deploy(signedRequest(manifestOf("pump", "1"), 1, "other.key"));
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, ControlErrc::kForbidden);
  EXPECT_EQ(table().find("pump"), nullptr);

  DeployRequest altered = signedRequest(manifestOf("pump", "1"), 1);
  altered.text = manifestOf("pump", "1", 0.7);
  EXPECT_EQ(plane().deploy(altered).error().code, ControlErrc::kForbidden);
  ASSERT_TRUE(plane().deploy(signedRequest(manifestOf("pump", "1"), 1)));
}

TEST_F(SignedControlPlaneTest, AnOlderReleaseNeedsAnExplicitRollback) {
  auto newer = plane().deploy(signedRequest(manifestOf("pump", "2"), 5));
  ASSERT_TRUE(newer) << newer.error().error.str();
  auto older = plane().deploy(signedRequest(manifestOf("pump", "1"), 3));
  ASSERT_FALSE(older);
  EXPECT_EQ(older.error().code, ControlErrc::kForbidden);
  EXPECT_THAT(older.error().error.message, HasSubstr("release 3, but release 5"));
  EXPECT_EQ(serving("pump"), "2");

  ASSERT_TRUE(boot({}, true));  // the release is remembered across a restart
  EXPECT_EQ(plane().deploy(signedRequest(manifestOf("pump", "1"), 3)).error().code,
            ControlErrc::kForbidden);

  DeployRequest rollback = signedRequest(manifestOf("pump", "1"), 3);
  rollback.rollback = true;
  auto rolled = plane().deploy(rollback);
  ASSERT_TRUE(rolled) << rolled.error().error.str();
  EXPECT_EQ(serving("pump"), "1");
  EXPECT_THAT(audited("pump").back()["detail"].get<std::string>(),
              HasSubstr("rolled back from release 5 to 3"));

  // A switch back re-checks the bundle kept with the stored version; it is a rollback on purpose.
  auto switched = plane().switchTo("pump", "2", "bob");
  ASSERT_TRUE(switched) << switched.error().error.str();
  EXPECT_EQ(serving("pump"), "2");
}

TEST_F(ControlPlaneTest, LoadRefusesADuplicateNameAndAMissingManifest) {
  auto duplicate =
      boot({siteFile("a", manifestOf("pump", "1")), siteFile("b", manifestOf("pump", "2"))});
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, Errc::kAlreadyExists);
  EXPECT_THAT(duplicate.error().message, HasSubstr("declared twice"));

  ASSERT_TRUE(boot());
  deployOk(manifestOf("pump", "1"));
  node_.reset();
  std::filesystem::remove(data_.path() / "control" / "functions" / "pump" / "1.yaml");
  auto gone = boot();
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::kCorrupt);
  EXPECT_THAT(gone.error().message, HasSubstr("pump@1, which has no stored manifest"));
}

}  // namespace
}  // namespace sie::node
