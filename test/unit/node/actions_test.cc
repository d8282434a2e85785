#include "node/actions.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "node/local_bus.h"

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

}  // namespace
}  // namespace sie::node
