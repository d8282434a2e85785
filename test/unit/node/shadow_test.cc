// Shadow: mirrored events are decided again by the candidate, never acted on, and compared with
// the serving decisions; a candidate that falls behind loses mirrored events, never slows the
// serving path.
#include "runtime/shadow.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "table_harness.h"
#include "wait_until.h"

namespace sie::node {
namespace {

using sie::testing::waitUntil;
using testing::scriptedSpec;
using testing::TableHarness;

class ShadowTest : public ::testing::Test {
 protected:
  std::shared_ptr<FunctionRunner> candidate(double score, bool failing = false) {
    FunctionSpec spec = scriptedSpec("pump", "2", score);
    if (failing) spec.params["fail"] = 1;
    return std::make_shared<FunctionRunner>(spec, h_.runtimePtr(), h_.state(), h_.actions());
  }
  // Mirrors one reading per decision (of sensor plant/pN/temp).
  void mirror(Shadow& shadow, const std::vector<std::optional<Decision>>& decisions) {
    std::vector<Event> events(decisions.size());
    std::vector<const Event*> pointers;
    for (std::size_t i = 0; i < events.size(); ++i) {
      const std::string sensor = "plant/p" + std::to_string(i) + "/temp";
      events[i].subject = sensor;
      events[i].telemetry = Telemetry{Symbol::intern(sensor), 1'000'000'000, {1.0}};
      pointers.push_back(&events[i]);
    }
    shadow.mirror(pointers, decisions);
  }
  static bool settled(const Shadow& shadow, std::uint64_t compared) {
    const auto r = shadow.report();
    return r["compared"] == compared && r["queued"] == 0;
  }

  TableHarness h_{"shadow"};
};

Decision decided(double score, bool anomaly, std::string label) {
  return Decision{score, anomaly, std::move(label), "serving"};
}

TEST_F(ShadowTest, AnEmptyReportIsAllZeros) {
  auto runner = candidate(0.5);
  Shadow shadow(runner);
  const auto r = shadow.report();
  EXPECT_EQ(r["compared"], 0);
  EXPECT_EQ(r["agreed"], 0);
  EXPECT_EQ(r["agreement"], 0.0);
  EXPECT_EQ(r["meanScoreDelta"], 0.0);
  EXPECT_EQ(r["maxScoreDelta"], 0.0);
  EXPECT_EQ(r["dropped"], 0);
  EXPECT_EQ(r["candidate"]["invocations"], 0);
}

TEST_F(ShadowTest, ACandidateThatDecidesAlikeAgrees) {
  auto runner = candidate(0.8);
  Shadow shadow(runner);
  mirror(shadow, std::vector<std::optional<Decision>>(4, decided(0.8, true, "anomaly")));
  ASSERT_TRUE(waitUntil([&] { return settled(shadow, 4); })) << shadow.report().dump();
  const auto r = shadow.report();
  EXPECT_EQ(r["agreed"], 4);
  EXPECT_DOUBLE_EQ(r["agreement"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(r["meanScoreDelta"].get<double>(), 0.0);
  EXPECT_EQ(r["candidate"]["invocations"], 4);
  EXPECT_EQ(r["candidate"]["errors"], 0);
  EXPECT_EQ(h_.runtime().calls("pump@2"), 4);
}

TEST_F(ShadowTest, AVerdictOrALabelThatDiffersIsADisagreement) {
  auto runner = candidate(0.9);  // anomaly, "anomaly"
  Shadow shadow(runner);
  mirror(shadow, {decided(0.9, true, "anomaly"), decided(0.9, false, "anomaly"),
                  decided(0.9, true, "spike"), decided(0.9, true, "anomaly")});
  ASSERT_TRUE(waitUntil([&] { return settled(shadow, 4); })) << shadow.report().dump();
  const auto r = shadow.report();
  EXPECT_EQ(r["agreed"], 2);
  EXPECT_DOUBLE_EQ(r["agreement"].get<double>(), 0.5);
}

TEST_F(ShadowTest, ScoreDeltasAreAveragedAndTheLargestKept) {
  auto runner = candidate(0.3);
  Shadow shadow(runner);
  mirror(shadow, {decided(0.9, true, "anomaly"), decided(0.1, false, "normal"),
                  decided(0.3, false, "normal")});
  ASSERT_TRUE(waitUntil([&] { return settled(shadow, 3); })) << shadow.report().dump();
  const auto r = shadow.report();
  EXPECT_NEAR(r["meanScoreDelta"].get<double>(), 0.8 / 3, 1e-9);  // (0.6 + 0.2 + 0) / 3
  EXPECT_NEAR(r["maxScoreDelta"].get<double>(), 0.6, 1e-9);
  EXPECT_EQ(r["agreed"], 2);
}

TEST_F(ShadowTest, EventsWithoutAServingDecisionAreNotMirrored) {
  auto runner = candidate(0.1);
  Shadow shadow(runner);
  mirror(shadow, {std::nullopt, decided(0.1, false, "normal"), std::nullopt});
  ASSERT_TRUE(waitUntil([&] { return settled(shadow, 1); })) << shadow.report().dump();
  EXPECT_EQ(shadow.candidateStats().invocations, 1u);
  EXPECT_EQ(h_.runtime().calls("pump@2"), 1);
}

TEST_F(ShadowTest, CandidateFailuresAreCountedAndNotCompared) {
  auto runner = candidate(0.1, /*failing=*/true);
  Shadow shadow(runner);
  mirror(shadow, std::vector<std::optional<Decision>>(3, decided(0.1, false, "normal")));
  ASSERT_TRUE(waitUntil([&] { return shadow.candidateStats().invocations == 3; }));
  const auto stats = shadow.candidateStats();
  EXPECT_EQ(stats.errors, 3u);
  EXPECT_EQ(shadow.report()["compared"], 0);
  EXPECT_EQ(shadow.report()["candidate"]["errors"], 3);
}

TEST_F(ShadowTest, ACandidateThatFallsBehindLosesMirroredEventsNotTheCaller) {
  auto runner = candidate(0.1);
  h_.runtime().hold();
  {
    Shadow shadow(runner);
    mirror(shadow, {decided(0.1, false, "normal")});
    ASSERT_TRUE(waitUntil([&] { return h_.runtime().waiting() == 1; }));
    // The candidate is stuck on the first event: the queue fills, then events are dropped.
    mirror(shadow,
           std::vector<std::optional<Decision>>(Shadow::kQueue + 5, decided(0.1, false, "normal")));
    const auto r = shadow.report();
    EXPECT_EQ(r["dropped"], 5);
    EXPECT_EQ(r["queued"], Shadow::kQueue);
    h_.runtime().release();
  }  // and stops, with events still queued
}

}  // namespace
}  // namespace sie::node
