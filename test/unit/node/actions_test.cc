#include "runtime/actions.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/local_bus.h"

namespace sie::node {
namespace {

class MemoryAudit final : public AuditLog {
 public:
  Result<std::int64_t> append(std::string_view kind, std::string_view subject,
                              std::string_view body) override {
    records.push_back({static_cast<std::int64_t>(records.size() + 1), 0, std::string(kind),
                       std::string(subject), std::string(body)});
    return records.back().seq;
  }
  Result<std::vector<AuditRecord>> tail(std::size_t) override { return records; }
  Result<AuditVerifyReport> verify() override { return AuditVerifyReport{}; }
  std::vector<AuditRecord> records;
};

TEST(ActionsTest, PublishesLogsAndAuditsAnomalies) {
  LocalBus bus;
  MemoryAudit audit;
  Actions actions(bus, audit, systemClock());
  std::vector<std::pair<std::string, Event>> published;
  bus.subscribe("#",
                [&](std::string_view topic, const Event& e) { published.emplace_back(topic, e); });

  FunctionSpec spec;
  spec.name = "grid-voltage";
  spec.version = "1";
  spec.outputs = {OutputRule{}, OutputRule{OutputRule::Kind::kDecision, "alerts/{sensor}", true}};
  Telemetry reading{Symbol::intern("grid/feeder1/voltage"), 1000, {250.5}};

  ASSERT_TRUE(actions.decide(spec, reading, Decision{0.5, false, "normal", ""}));
  ASSERT_TRUE(actions.decide(spec, reading, Decision{6.2, true, "high", "z=6.2"}));

  ASSERT_EQ(published.size(), 3u);  // normal: 1 rule; anomaly: both rules
  EXPECT_EQ(published[0].first, "decisions/grid-voltage/grid/feeder1/voltage");
  EXPECT_EQ(published[2].first, "alerts/grid/feeder1/voltage");
  const Event& decision = published[2].second;
  EXPECT_EQ(decision.type, "io.sie.decision");
  EXPECT_EQ(decision.source, "sie://function/grid-voltage@1");
  EXPECT_EQ(decision.subject, "grid/feeder1/voltage");
  const auto data = nlohmann::json::parse(decision.data);
  EXPECT_EQ(data["label"], "high");
  EXPECT_EQ(data["anomaly"], true);
  EXPECT_DOUBLE_EQ(data["value"].get<double>(), 250.5);

  ASSERT_EQ(audit.records.size(), 1u);  // only the anomaly is audited
  EXPECT_EQ(audit.records[0].kind, "decision");
  EXPECT_EQ(audit.records[0].subject, "grid-voltage@1");
  EXPECT_EQ(actions.recent(10, false).size(), 2u);
  EXPECT_EQ(actions.recent(10, true).size(), 1u);
}

TEST(ActionsTest, AnomalyRecordsAreRateLimitedAndCounted) {
  LocalBus bus;
  MemoryAudit audit;
  Actions actions(bus, audit, systemClock(), 10, {.per_second = 0.001, .burst = 2});
  FunctionSpec spec;
  spec.name = "grid-voltage";
  spec.version = "1";
  Telemetry reading{Symbol::intern("grid/feeder1/voltage"), 1000, {250.5}};
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(actions.decide(spec, reading, Decision{6.2, true, "high", "z=6.2"}));
  }
  ASSERT_EQ(audit.records.size(), 2u);
  actions.flushAudit();  // as the node does when it stops
  ASSERT_EQ(audit.records.size(), 3u);
  const auto summary = nlohmann::json::parse(audit.records[2].body);
  EXPECT_EQ(audit.records[2].subject, "grid-voltage@1");
  EXPECT_EQ(summary["sensor"], "grid/feeder1/voltage");
  EXPECT_EQ(summary["suppressed"], 8);
}

// Decision ids depend on the function version and the reading alone: a restarted node (a new
// Actions) gives a new reading a new id, never one an earlier run used, and a redelivered reading
// the id it had, so receivers de-duplicate by id safely.
TEST(ActionsTest, DecisionIdsAreStableForAReadingAndUniqueAcrossRestarts) {
  FunctionSpec spec;
  spec.name = "pump";
  spec.version = "2";
  spec.outputs = {OutputRule{}};
  const Telemetry first{Symbol::intern("pump/1/temp"), 1000, {40.0}};
  const Telemetry second{Symbol::intern("pump/1/temp"), 2000, {41.0}};
  const Telemetry other{Symbol::intern("pump/2/temp"), 1000, {40.0}};
  const auto idsOfARun = [&](const std::vector<Telemetry>& readings) {
    LocalBus bus;
    MemoryAudit audit;
    Actions actions(bus, audit, systemClock());
    std::vector<std::string> ids;
    bus.subscribe("#", [&](std::string_view, const Event& e) { ids.push_back(e.id); });
    for (const auto& r : readings) {
      EXPECT_TRUE(actions.decide(spec, r, Decision{0.1, false, "normal", ""}));
    }
    return ids;
  };
  const auto before = idsOfARun({first});
  const auto after = idsOfARun({second, other, first});  // after a restart; `first` redelivered
  ASSERT_EQ(before.size(), 1U);
  ASSERT_EQ(after.size(), 3U);
  EXPECT_NE(after[0], before[0]);
  EXPECT_NE(after[1], before[0]);
  EXPECT_NE(after[0], after[1]);
  EXPECT_EQ(after[2], before[0]);
  EXPECT_EQ(before[0], decisionId("pump@2", first));
  EXPECT_NE(decisionId("pump@3", first), before[0]);  // another version decides anew
  EXPECT_EQ(before[0].size(), 34U);                   // "d-" + 128 bits in hex
}

TEST(ActionsTest, ExpandsTemplates) {
  EXPECT_EQ(expandTemplate("limits/{sensor}/{function}", "a/b", "f"), "limits/a/b/f");
  EXPECT_EQ(expandTemplate("{sensor", "a", "f"), "{sensor");
  EXPECT_EQ(expandTemplate("", "a", "f"), "");
}

TEST(ActionsTest, UnscoredDecisionsStayValidJson) {
  FunctionSpec spec;
  spec.name = "f";
  Telemetry reading{Symbol::intern("nan/x"), 1, {std::nan("")}};
  const auto doc = nlohmann::json::parse(decisionJson(
      spec.name, spec.version, reading, Decision{std::nan(""), false, "bad-quality", ""}));
  EXPECT_TRUE(doc["score"].is_null());
  EXPECT_TRUE(doc["value"].is_null());
}

// A decision says what it was made on: the reading's quality, and its flag when it has one.
TEST(ActionsTest, DecisionsCarryTheReadingsQualityAndFlag) {
  Telemetry good{Symbol::intern("q/ok"), 1, {2}};
  auto doc = nlohmann::json::parse(decisionJson("f", "1", good, Decision{0, false, "normal", ""}));
  EXPECT_EQ(doc["quality"], "good");
  EXPECT_FALSE(doc.contains("flag"));
  Telemetry stale{Symbol::intern("q/stale"), 2, {3}};
  stale.quality = Quality::kBad;
  stale.flag = "stale: NDEATH of plant/edge1";
  doc = nlohmann::json::parse(decisionJson("f", "1", stale, Decision{1, true, "stale", ""}));
  EXPECT_EQ(doc["quality"], "bad");
  EXPECT_EQ(doc["flag"], "stale: NDEATH of plant/edge1");
}

}  // namespace
}  // namespace sie::node
