// FunctionTable: the functions a node serves, changed while events flow — deploys that fail
// leave the old version serving, replaced versions retire once nothing holds them, deletes
// drain, and rollouts (canary, shadow, blue-green) share traffic, promote, abort and roll back.
#include "runtime/function_table.h"

#include <future>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/rollout_policy.h"
#include "table_harness.h"
#include "wait_until.h"

namespace sie::node {
namespace {

using sie::testing::waitUntil;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::scriptedSpec;
using testing::TableHarness;

RolloutPolicy rolloutOf(RolloutPolicy::Strategy strategy, int weight = 100,
                        std::uint64_t min_invocations = 20) {
  RolloutPolicy p;
  p.strategy = strategy;
  p.weight = weight;
  p.min_invocations = min_invocations;
  return p;
}

Event readingOf(const std::string& sensor) {
  Event e;
  e.subject = sensor;
  e.telemetry = Telemetry{Symbol::intern(sensor), 1'000'000'000, {1.0}};
  return e;
}

class FunctionTableTest : public ::testing::Test {
 protected:
  // Sends one reading to each of `sensors` and waits until all ran.
  void sendAll(const std::vector<std::string>& sensors) {
    for (const auto& sensor : sensors) ASSERT_TRUE(h_.send(sensor)) << sensor;
    ASSERT_TRUE(h_.drain());
  }
  std::vector<std::string> sensors(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back("plant/p" + std::to_string(i) + "/temp");
    return out;
  }
  std::vector<DeadLetter> deadLetters() {
    EXPECT_TRUE(h_.state().sync());
    auto letters = h_.state().deadLetters().list(100);
    EXPECT_TRUE(letters) << letters.error().str();
    return letters ? *letters : std::vector<DeadLetter>{};
  }

  TableHarness h_{"table"};
};

TEST_F(FunctionTableTest, ADeployedFunctionServesItsTriggers) {
  auto deployed = h_.table().deploy(scriptedSpec("pump", "1"));
  ASSERT_TRUE(deployed) << deployed.error().str();
  EXPECT_EQ(deployed->id, "pump@1");
  EXPECT_EQ(deployed->previous, "");
  ASSERT_NE(h_.table().find("pump"), nullptr);
  EXPECT_EQ(h_.table().find("pump")->spec().id(), "pump@1");
  EXPECT_EQ(h_.table().find("other"), nullptr);
  EXPECT_TRUE(h_.routed("plant/p1/temp"));
  EXPECT_FALSE(h_.routed("office/p1/temp"));

  sendAll(sensors(5));
  EXPECT_EQ(h_.runtime().calls("pump@1"), 5);
}

TEST_F(FunctionTableTest, ANewVersionTakesOverAndTheOldOneRetiresOnceNothingHoldsIt) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("big", "1", 0.9)));
  FunctionSpec first = scriptedSpec("pump", "1", 0.5);
  first.scaling.min = 1;
  first.escalate = EscalationPolicy{"big", 0.3, 0.7, std::chrono::seconds(10)};
  ASSERT_TRUE(h_.table().deploy(first));
  ASSERT_TRUE(h_.table().start());
  std::shared_ptr<FunctionRunner> held = h_.table().find("pump");  // like an event in flight
  ASSERT_EQ(held->pool().live(), 1);
  auto second = h_.table().deploy(scriptedSpec("pump", "2"));
  ASSERT_TRUE(second) << second.error().str();
  EXPECT_EQ(second->id, "pump@2");
  EXPECT_EQ(second->previous, "pump@1");
  EXPECT_EQ(h_.table().find("pump")->spec().version, "2");
  EXPECT_EQ(held->pool().live(), 0) << "a replaced version's idle instances stop at once";

  sendAll(sensors(3));
  EXPECT_EQ(h_.runtime().calls("pump@2"), 3);
  EXPECT_EQ(h_.runtime().calls("pump@1"), 0);

  h_.table().tick();
  EXPECT_THAT(h_.runtime().retired(), Not(Contains("pump@1"))) << "retired while still held";
  // What it has in flight still runs whole, escalation included.
  std::optional<Decision> decided;
  held->handle(readingOf("plant/p1/temp"), 0, &decided);
  ASSERT_TRUE(decided);
  EXPECT_DOUBLE_EQ(decided->score, 0.9) << decided->detail;
  held.reset();
  h_.table().tick();
  EXPECT_THAT(h_.runtime().retired(), Contains("pump@1"));
  EXPECT_THAT(h_.runtime().retired(), Not(Contains("pump@2")));
}

TEST_F(FunctionTableTest, AFailedDeployLeavesTheServingVersionServing) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));

  FunctionSpec unknown_runtime = scriptedSpec("pump", "2");
  unknown_runtime.runtime = "nope";
  auto refused = h_.table().deploy(unknown_runtime);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kInvalidArgument);
  EXPECT_THAT(refused.error().message, HasSubstr("unknown runtime 'nope'"));
  EXPECT_EQ(refused.error().where, "functions/pump.yaml:1");

  FunctionSpec bad_trigger = scriptedSpec("pump", "3");
  bad_trigger.triggers = {"plant/#/temp"};
  EXPECT_FALSE(h_.table().deploy(bad_trigger));

  FunctionSpec invalid = scriptedSpec("pump", "4");
  invalid.handler = "invalid";
  auto not_valid = h_.table().deploy(invalid);
  ASSERT_FALSE(not_valid);
  EXPECT_THAT(not_valid.error().message, HasSubstr("refused by this runtime"));

  EXPECT_EQ(h_.table().find("pump")->spec().version, "1");
  sendAll(sensors(2));
  EXPECT_EQ(h_.runtime().calls("pump@1"), 2);
}

TEST_F(FunctionTableTest, AFailedDeployOfANewNameServesNothing) {
  FunctionSpec invalid = scriptedSpec("pump", "1");
  invalid.handler = "invalid";
  EXPECT_FALSE(h_.table().deploy(invalid));
  EXPECT_EQ(h_.table().find("pump"), nullptr);
  EXPECT_THAT(h_.table().runners(), IsEmpty());
  EXPECT_FALSE(h_.routed("plant/p1/temp"));
}

TEST_F(FunctionTableTest, OnceStartedAVersionIsWarmedBeforeItServes) {
  FunctionSpec cold = scriptedSpec("pump", "1");
  cold.handler = "nostart";
  cold.scaling.min = 1;
  // Before start() nothing is warmed: the deploy takes it.
  ASSERT_TRUE(h_.table().deploy(cold));
  EXPECT_FALSE(h_.table().start()) << "start() warms every runner, and this one cannot start";

  FunctionSpec warm = scriptedSpec("pump", "2");
  warm.scaling.min = 1;
  ASSERT_TRUE(h_.table().deploy(warm));
  ASSERT_TRUE(h_.table().start());
  EXPECT_EQ(h_.table().find("pump")->pool().live(), 1);

  FunctionSpec broken = scriptedSpec("pump", "3");
  broken.handler = "nostart";
  broken.scaling.min = 1;
  auto refused = h_.table().deploy(broken);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("could not start"));
  EXPECT_EQ(h_.table().find("pump")->spec().version, "2");
}

TEST_F(FunctionTableTest, EscalationTargetsMustExistUnlessCheckedLater) {
  FunctionSpec small = scriptedSpec("small", "1");
  small.escalate = EscalationPolicy{"big", 0.3, 0.7, std::chrono::milliseconds(100)};
  auto refused = h_.table().deploy(small);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kNotFound);
  EXPECT_THAT(refused.error().message, HasSubstr("no function named 'big'"));

  ASSERT_TRUE(h_.table().deploy(small, false));
  auto missing = h_.table().checkEscalations();
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("'big'"));
  EXPECT_EQ(missing.error().where, "functions/small.yaml:1");

  ASSERT_TRUE(h_.table().deploy(scriptedSpec("big", "1", 0.9)));
  EXPECT_TRUE(h_.table().checkEscalations());
}

TEST_F(FunctionTableTest, EvaluateAsksTheServingVersionWithoutActing) {
  EXPECT_EQ(h_.table().evaluate("pump", readingOf("plant/p1/temp")).error().code, Errc::kNotFound);
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1", 0.8)));
  auto decision = h_.table().evaluate("pump", readingOf("plant/p1/temp"));
  ASSERT_TRUE(decision) << decision.error().str();
  ASSERT_TRUE(*decision);
  EXPECT_DOUBLE_EQ((*decision)->score, 0.8);
  EXPECT_TRUE((*decision)->anomaly);
  EXPECT_FALSE(h_.table().evaluate("pump", Event{}));  // no telemetry
}

TEST_F(FunctionTableTest, RemoveRunsWhatIsQueuedThenStopsRouting) {
  EXPECT_EQ(h_.table().remove("pump").error().code, Errc::kNotFound);
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  h_.runtime().hold();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h_.send("plant/p1/temp", 1'000'000'000 + i));
  ASSERT_TRUE(waitUntil([&] { return h_.runtime().waiting() == 1; }));
  auto removed = std::async(std::launch::async, [&] { return h_.table().remove("pump"); });
  ASSERT_TRUE(waitUntil([&] { return !h_.routed("plant/p1/temp"); }));
  h_.runtime().release();
  ASSERT_TRUE(removed.get());

  EXPECT_EQ(h_.runtime().calls("pump@1"), 3) << "the queued events ran before the delete";
  EXPECT_EQ(h_.table().find("pump"), nullptr);
  EXPECT_THAT(h_.table().runners(), IsEmpty());
  EXPECT_THAT(deadLetters(), IsEmpty());
  EXPECT_EQ(h_.table().remove("pump").error().code, Errc::kNotFound) << "removed twice";
}

TEST_F(FunctionTableTest, EventsThatOutwaitTheDrainAreDeadLettered) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  h_.runtime().hold();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h_.send("plant/p1/temp", 1'000'000'000 + i));
  ASSERT_TRUE(waitUntil([&] { return h_.runtime().waiting() == 1; }));
  ASSERT_TRUE(h_.table().remove("pump", std::chrono::milliseconds(0)));
  h_.runtime().release();
  ASSERT_TRUE(h_.drain());

  EXPECT_EQ(h_.runtime().calls("pump@1"), 1) << "only the running event finished";
  const auto letters = deadLetters();
  ASSERT_EQ(letters.size(), 2u);
  for (const auto& letter : letters) {
    EXPECT_EQ(letter.origin, "function:pump");
    EXPECT_EQ(letter.subject, "plant/p1/temp");
    EXPECT_THAT(letter.reason, HasSubstr("'pump' was deleted before this event ran"));
  }
}

TEST_F(FunctionTableTest, ARemovedNameCanBeDeployedAgain) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  ASSERT_TRUE(h_.table().remove("pump"));
  auto again = h_.table().deploy(scriptedSpec("pump", "2"));
  ASSERT_TRUE(again) << again.error().str();
  EXPECT_EQ(again->previous, "") << "nothing served the name when it came back";
  sendAll(sensors(2));
  EXPECT_EQ(h_.runtime().calls("pump@2"), 2);
}

TEST_F(FunctionTableTest, ScaleSetsTheServingPoolsBounds) {
  ScalingPolicy scaling;
  scaling.min = 0;
  scaling.max = 7;
  scaling.target_concurrency = 3;
  EXPECT_EQ(h_.table().scale("pump", scaling).error().code, Errc::kNotFound);
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  ASSERT_TRUE(h_.table().scale("pump", scaling));
  const ScalingPolicy now = h_.table().find("pump")->pool().scaling();
  EXPECT_EQ(now.max, 7);
  EXPECT_EQ(now.target_concurrency, 3);
}

TEST_F(FunctionTableTest, ACandidateNeedsAServingVersionAndAValidPolicy) {
  auto alone = h_.table().deployCandidate(scriptedSpec("pump", "2"),
                                          rolloutOf(RolloutPolicy::Strategy::kCanary));
  ASSERT_FALSE(alone);
  EXPECT_EQ(alone.error().code, Errc::kNotFound);
  EXPECT_THAT(alone.error().message, HasSubstr("deploy it without a rollout first"));

  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  auto bad = h_.table().deployCandidate(scriptedSpec("pump", "2"),
                                        rolloutOf(RolloutPolicy::Strategy::kCanary, 150));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().where, "weight");
  EXPECT_FALSE(h_.table().rollout("pump"));

  auto started = h_.table().deployCandidate(scriptedSpec("pump", "2"),
                                            rolloutOf(RolloutPolicy::Strategy::kCanary, 30));
  ASSERT_TRUE(started) << started.error().str();
  EXPECT_EQ(started->id, "pump@2");
  EXPECT_EQ(started->previous, "pump@1");
  EXPECT_EQ(h_.table().find("pump")->spec().version, "1") << "the candidate does not serve";
  auto status = h_.table().rollout("pump");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->serving, "pump@1");
  EXPECT_EQ(status->candidate, "pump@2");
  EXPECT_EQ(status->policy.weight, 30);
  EXPECT_TRUE(status->shadow.is_null());
}

TEST_F(FunctionTableTest, ACanaryTakesTheSensorsOfItsShareAndEachSensorStaysWithOneVersion) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  ASSERT_TRUE(h_.table().deployCandidate(scriptedSpec("pump", "2"),
                                         rolloutOf(RolloutPolicy::Strategy::kCanary, 50)));
  const auto all = sensors(40);
  int canary = 0;
  for (const auto& s : all) canary += stickyBucket(s) < 50 ? 1 : 0;
  ASSERT_GT(canary, 0);
  ASSERT_LT(canary, 40);
  sendAll(all);
  sendAll(all);  // the same sensors again: the same split
  EXPECT_EQ(h_.runtime().calls("pump@2"), 2 * canary);
  EXPECT_EQ(h_.runtime().calls("pump@1"), 2 * (40 - canary));
}

TEST_F(FunctionTableTest, ACanaryOfWeightZeroGetsNothing) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  ASSERT_TRUE(h_.table().deployCandidate(scriptedSpec("pump", "2"),
                                         rolloutOf(RolloutPolicy::Strategy::kCanary, 0)));
  sendAll(sensors(20));
  EXPECT_EQ(h_.runtime().calls("pump@2"), 0);
  EXPECT_EQ(h_.runtime().calls("pump@1"), 20);
}

TEST_F(FunctionTableTest, AFailedCanaryCallIsHandedToTheServingVersion) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  FunctionSpec failing = scriptedSpec("pump", "2");
  failing.params["fail"] = 1;
  ASSERT_TRUE(h_.table().deployCandidate(
      failing, rolloutOf(RolloutPolicy::Strategy::kCanary, 100, /*min_invocations=*/1000)));
  sendAll(sensors(10));
  EXPECT_EQ(h_.runtime().calls("pump@2"), 10);
  EXPECT_EQ(h_.runtime().calls("pump@1"), 10) << "each failed canary call fell back";
  EXPECT_THAT(deadLetters(), IsEmpty());
  const auto status = h_.table().rollout("pump");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->candidate_stats.invocations, 10u);
  EXPECT_EQ(status->candidate_stats.errors, 10u);
}

// The serving version retries in micro-batches mixed with the candidate's sensors: the turn ends at
// the failed event and nothing behind it ran, so every reading is decided once, by one version.
TEST_F(FunctionTableTest, AServingVersionsRetryUnderACanaryDecidesEachReadingOnce) {
  FunctionSpec serving = scriptedSpec("pump", "1");
  serving.params["failFirst"] = 3;
  serving.retries = 3;
  serving.retry_delay = std::chrono::milliseconds(1);
  serving.batch = BatchPolicy{16, std::chrono::milliseconds(20)};
  ASSERT_TRUE(h_.table().deploy(serving));
  ASSERT_TRUE(h_.table().deployCandidate(scriptedSpec("pump", "2"),
                                         rolloutOf(RolloutPolicy::Strategy::kCanary, 50, 1000)));
  sendAll(sensors(20));
  const auto status = h_.table().rollout("pump");
  ASSERT_TRUE(status);
  const std::uint64_t by_candidate = status->candidate_stats.invocations;
  const std::uint64_t by_serving = h_.table().find("pump")->decisions();
  EXPECT_EQ(by_candidate + by_serving, 20U);
  EXPECT_GT(by_candidate, 0U);
  EXPECT_GT(by_serving, 0U);
  EXPECT_GE(h_.runtime().calls("pump@1"), static_cast<int>(by_serving) + 3) << "3 failed first";
  EXPECT_THAT(deadLetters(), IsEmpty());
}

TEST_F(FunctionTableTest, AShadowSeesEveryEventAndActsOnNone) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1", 0.9)));
  ASSERT_TRUE(h_.table().deployCandidate(scriptedSpec("pump", "2", 0.1),
                                         rolloutOf(RolloutPolicy::Strategy::kShadow)));
  sendAll(sensors(6));
  EXPECT_EQ(h_.runtime().calls("pump@1"), 6);
  ASSERT_TRUE(waitUntil([&] { return h_.runtime().calls("pump@2") == 6; }));
  ASSERT_TRUE(waitUntil([&] { return h_.table().rollout("pump")->shadow["compared"] == 6; }));
  const auto status = h_.table().rollout("pump");
  EXPECT_EQ(status->shadow["agreed"], 0) << "0.9 (anomaly) and 0.1 (normal) disagree";
  EXPECT_EQ(status->candidate_stats.invocations, 6u) << "the shadow's own stats";
}

TEST_F(FunctionTableTest, ABlueGreenStandbySeesNothingUntilPromoted) {
  FunctionSpec blue = scriptedSpec("pump", "1");
  blue.scaling.min = 1;
  ASSERT_TRUE(h_.table().deploy(blue));
  ASSERT_TRUE(h_.table().start());
  ASSERT_TRUE(h_.table().deployCandidate(scriptedSpec("pump", "2"),
                                         rolloutOf(RolloutPolicy::Strategy::kBlueGreen)));
  sendAll(sensors(5));
  EXPECT_EQ(h_.runtime().calls("pump@2"), 0);
  EXPECT_EQ(h_.runtime().calls("pump@1"), 5);

  std::shared_ptr<FunctionRunner> old = h_.table().find("pump");
  ASSERT_GE(old->pool().live(), 1);  // all idle: every event ran
  auto promoted = h_.table().promote("pump");
  ASSERT_TRUE(promoted) << promoted.error().str();
  EXPECT_EQ(*promoted, "2");
  EXPECT_EQ(h_.table().find("pump")->spec().version, "2");
  EXPECT_FALSE(h_.table().rollout("pump"));
  EXPECT_EQ(old->pool().live(), 0) << "the replaced version's idle instances stop at once";
  sendAll(sensors(5));
  EXPECT_EQ(h_.runtime().calls("pump@2"), 5);
  EXPECT_EQ(h_.runtime().calls("pump@1"), 5);
  old.reset();
  h_.table().tick();
  EXPECT_THAT(h_.runtime().retired(), Contains("pump@1"));
}

TEST_F(FunctionTableTest, PromoteAbortAndSetRolloutNeedARollout) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  for (const std::string name : {"pump", "ghost"}) {
    EXPECT_EQ(h_.table().promote(name).error().code, Errc::kNotFound) << name;
    EXPECT_EQ(h_.table().abortRollout(name).error().code, Errc::kNotFound) << name;
    EXPECT_EQ(h_.table().setRollout(name, RolloutPolicy{}).error().code, Errc::kNotFound) << name;
  }
}

TEST_F(FunctionTableTest, AbortingRetiresTheCandidateAndKeepsTheServingVersion) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  ASSERT_TRUE(h_.table().deployCandidate(scriptedSpec("pump", "2"),
                                         rolloutOf(RolloutPolicy::Strategy::kCanary, 100)));
  auto aborted = h_.table().abortRollout("pump");
  ASSERT_TRUE(aborted) << aborted.error().str();
  EXPECT_EQ(*aborted, "2");
  EXPECT_FALSE(h_.table().rollout("pump"));
  EXPECT_EQ(h_.table().find("pump")->spec().version, "1");
  sendAll(sensors(4));
  EXPECT_EQ(h_.runtime().calls("pump@1"), 4);
  EXPECT_EQ(h_.runtime().calls("pump@2"), 0);
  h_.table().tick();
  EXPECT_THAT(h_.runtime().retired(), Contains("pump@2"));
}

TEST_F(FunctionTableTest, SetRolloutChangesTheStrategyOfTheRunningRollout) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  ASSERT_TRUE(h_.table().deployCandidate(scriptedSpec("pump", "2"),
                                         rolloutOf(RolloutPolicy::Strategy::kCanary, 0)));
  EXPECT_FALSE(h_.table().setRollout("pump", rolloutOf(RolloutPolicy::Strategy::kCanary, -5)));

  ASSERT_TRUE(h_.table().setRollout("pump", rolloutOf(RolloutPolicy::Strategy::kShadow)));
  auto status = h_.table().rollout("pump");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->policy.strategy, RolloutPolicy::Strategy::kShadow);
  EXPECT_FALSE(status->shadow.is_null());
  sendAll(sensors(3));
  ASSERT_TRUE(waitUntil([&] { return h_.runtime().calls("pump@2") == 3; }));

  ASSERT_TRUE(h_.table().setRollout("pump", rolloutOf(RolloutPolicy::Strategy::kCanary, 100)));
  status = h_.table().rollout("pump");
  EXPECT_TRUE(status->shadow.is_null());
  sendAll(sensors(3));
  EXPECT_EQ(h_.runtime().calls("pump@2"), 6);
  EXPECT_EQ(h_.runtime().calls("pump@1"), 3) << "only while shadowing";
}

TEST_F(FunctionTableTest, APlainDeployEndsTheRollout) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  ASSERT_TRUE(h_.table().deployCandidate(scriptedSpec("pump", "2"),
                                         rolloutOf(RolloutPolicy::Strategy::kShadow)));
  auto third = h_.table().deploy(scriptedSpec("pump", "3"));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->previous, "pump@1");
  EXPECT_FALSE(h_.table().rollout("pump"));
  h_.table().tick();
  EXPECT_THAT(h_.runtime().retired(), Contains("pump@2"));
}

TEST_F(FunctionTableTest, TickRollsBackACandidateThatFailsTooOftenOnceItHasEnoughCalls) {
  std::vector<std::string> rolled_back;
  h_.table().onRollback(
      [&](const std::string& name, const std::string& version, const std::string& reason) {
        rolled_back.push_back(name + "@" + version + ": " + reason);
      });
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  FunctionSpec failing = scriptedSpec("pump", "2");
  failing.params["fail"] = 1;
  ASSERT_TRUE(h_.table().deployCandidate(
      failing, rolloutOf(RolloutPolicy::Strategy::kCanary, 100, /*min_invocations=*/5)));

  sendAll(sensors(4));
  h_.table().tick();
  EXPECT_THAT(rolled_back, IsEmpty()) << "4 invocations are fewer than minInvocations";
  EXPECT_TRUE(h_.table().rollout("pump"));

  sendAll(sensors(1));
  h_.table().tick();
  ASSERT_EQ(rolled_back.size(), 1u);
  EXPECT_THAT(rolled_back[0], HasSubstr("pump@2: 5 of 5 invocations failed"));
  EXPECT_FALSE(h_.table().rollout("pump"));
  EXPECT_EQ(h_.table().find("pump")->spec().version, "1");
  sendAll(sensors(3));
  EXPECT_EQ(h_.runtime().calls("pump@2"), 5) << "rolled back: no more canary calls";
}

TEST_F(FunctionTableTest, TickRollsBackACandidateOverItsLatencyObjective) {
  std::vector<std::string> reasons;
  h_.table().onRollback([&](const std::string&, const std::string&, const std::string& why) {
    reasons.push_back(why);
  });
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  FunctionSpec slow = scriptedSpec("pump", "2");
  slow.params["delayMs"] = 20;
  RolloutPolicy policy = rolloutOf(RolloutPolicy::Strategy::kCanary, 100, 3);
  policy.max_p99_ms = 5;
  ASSERT_TRUE(h_.table().deployCandidate(slow, policy));
  sendAll(sensors(3));
  h_.table().tick();
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_THAT(reasons[0], HasSubstr("p99 latency"));
  EXPECT_FALSE(h_.table().rollout("pump"));
}

TEST_F(FunctionTableTest, AHealthyOrBlueGreenCandidateIsNotRolledBack) {
  int rollbacks = 0;
  h_.table().onRollback([&](const auto&, const auto&, const auto&) { ++rollbacks; });
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  ASSERT_TRUE(h_.table().deployCandidate(scriptedSpec("pump", "2"),
                                         rolloutOf(RolloutPolicy::Strategy::kCanary, 100, 3)));
  sendAll(sensors(5));
  h_.table().tick();
  EXPECT_EQ(rollbacks, 0);
  EXPECT_TRUE(h_.table().rollout("pump"));

  // A blue-green standby is not judged, even on failures it had as a canary before.
  FunctionSpec failing = scriptedSpec("pump", "3");
  failing.params["fail"] = 1;
  ASSERT_TRUE(h_.table().deployCandidate(
      failing, rolloutOf(RolloutPolicy::Strategy::kCanary, 100, /*min_invocations=*/1000)));
  sendAll(sensors(5));
  ASSERT_EQ(h_.table().rollout("pump")->candidate_stats.errors, 5u);
  ASSERT_TRUE(
      h_.table().setRollout("pump", rolloutOf(RolloutPolicy::Strategy::kBlueGreen, 100, 1)));
  h_.table().tick();
  EXPECT_EQ(rollbacks, 0);
  EXPECT_TRUE(h_.table().rollout("pump"));
}

TEST_F(FunctionTableTest, RunnersListsTheServingVersionsOnly) {
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("pump", "1")));
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("valve", "1")));
  ASSERT_TRUE(h_.table().deploy(scriptedSpec("fan", "1")));
  ASSERT_TRUE(h_.table().deployCandidate(scriptedSpec("pump", "2"),
                                         rolloutOf(RolloutPolicy::Strategy::kBlueGreen)));
  ASSERT_TRUE(h_.table().remove("fan"));
  std::set<std::string> ids;
  for (const auto& runner : h_.table().runners()) ids.insert(runner->spec().id());
  EXPECT_EQ(ids, (std::set<std::string>{"pump@1", "valve@1"}));
}

}  // namespace
}  // namespace sie::node
