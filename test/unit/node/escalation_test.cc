// Hierarchical inference: uncertain decisions go to another function with a deadline; the local
// decision stands when that is slow, fails, or the score is not uncertain.
#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixed_executor.h"
#include "runtime/actions.h"
#include "runtime/function_runner.h"
#include "runtime/local_bus.h"
#include "sie/clock.h"
#include "sie/metrics.h"
#include "state/embedded_store.h"

namespace sie::node {
namespace {

using testing::FixedExecutor;
using ::testing::HasSubstr;

FunctionSpec specNamed(const std::string& name, std::optional<EscalationPolicy> escalate = {}) {
  FunctionSpec s;
  s.name = name;
  s.version = "1";
  s.runtime = "fixed";
  s.triggers = {"plant/#"};
  s.escalate = std::move(escalate);
  s.scaling.max = 2;
  return s;
}

class EscalationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sie-escalation-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    state::EmbeddedOptions o;
    o.data_dir = dir_.string();
    state_ = std::move(*state::openEmbedded(o));
    actions_ = std::make_unique<Actions>(bus_, state_->audit(), systemClock());
  }
  void TearDown() override {
    actions_.reset();
    state_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs one event through `local` (escalating to `remote`) and returns its decision.
  Decision decide(double local_score, double remote_score, std::chrono::milliseconds remote_delay,
                  EscalationPolicy policy) {
    FunctionRunner remote(specNamed("big-model"),
                          std::make_shared<FixedExecutor>(remote_score, remote_delay), *state_,
                          *actions_);
    FunctionRunner local(specNamed("small-model", policy),
                         std::make_shared<FixedExecutor>(local_score, std::chrono::milliseconds(0)),
                         *state_, *actions_);
    local.escalateTo(remote.asEscalationTarget());
    std::optional<Decision> seen;
    local.tap([&](const Telemetry&, const Decision& d) { seen = d; });
    Event event;
    event.subject = "plant/pump1/vibration";
    event.telemetry = Telemetry{Symbol::intern(event.subject), 1'000'000'000, {0.5}};
    local.handle(event);
    local.stopEscalating();
    EXPECT_TRUE(seen);
    return seen.value_or(Decision{});
  }

  std::filesystem::path dir_;
  std::unique_ptr<StateStore> state_;
  LocalBus bus_;
  std::unique_ptr<Actions> actions_;
};

EscalationPolicy band(std::chrono::milliseconds deadline) {
  return EscalationPolicy{"big-model", 0.3, 0.7, deadline};
}

TEST_F(EscalationTest, AnUncertainDecisionTakesTheTargetsAnswer) {
  const auto before = metrics().counterTotal("sie_escalations_total");
  const Decision d =
      decide(0.5, 0.95, std::chrono::milliseconds(0), band(std::chrono::seconds(10)));
  EXPECT_DOUBLE_EQ(d.score, 0.95);
  EXPECT_TRUE(d.anomaly);
  EXPECT_THAT(d.detail, HasSubstr("escalated (local score 0.500)"));
  EXPECT_EQ(metrics().counterTotal("sie_escalations_total") - before, 1u);
}

TEST_F(EscalationTest, ASlowTargetLeavesTheLocalDecisionAfterTheDeadline) {
  const Decision d =
      decide(0.5, 0.95, std::chrono::milliseconds(300), band(std::chrono::milliseconds(5)));
  EXPECT_DOUBLE_EQ(d.score, 0.5);
  EXPECT_THAT(d.detail, HasSubstr("big-model@1 did not answer within 5 ms: local decision"));
}

TEST_F(EscalationTest, ACertainDecisionIsNotEscalated) {
  const auto before = metrics().counterTotal("sie_escalations_total");
  const Decision low =
      decide(0.1, 0.95, std::chrono::milliseconds(0), band(std::chrono::seconds(10)));
  EXPECT_DOUBLE_EQ(low.score, 0.1);
  const Decision high =
      decide(0.7, 0.0, std::chrono::milliseconds(0), band(std::chrono::seconds(10)));
  EXPECT_DOUBLE_EQ(high.score, 0.7);  // the band is [low, high)
  EXPECT_EQ(metrics().counterTotal("sie_escalations_total"), before);
}

}  // namespace
}  // namespace sie::node
