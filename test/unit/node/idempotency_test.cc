// spec.idempotent: an event delivered twice (a broker redelivery, a replay) applies its effects
// once; without it, every delivery acts; retries back off between attempts.
#include <atomic>
#include <filesystem>

#include <gtest/gtest.h>

#include "fixed_executor.h"
#include "runtime/actions.h"
#include "runtime/function_runner.h"
#include "runtime/local_bus.h"
#include "sie/clock.h"
#include "sie/metrics.h"
#include "state/embedded_store.h"
#include "stopped_clock.h"

namespace sie::node {
namespace {

using sie::testing::StoppedClock;  // dead letters carry the node's clock, not the system's

class IdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sie-idempotency-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    state::EmbeddedOptions o;
    o.data_dir = dir_.string();
    state_ = std::move(*state::openEmbedded(o));
    actions_ = std::make_unique<Actions>(bus_, state_->audit(), systemClock());
    bus_.subscribe("decisions/#", [this](std::string_view, const Event&) { ++published_; });
  }
  void TearDown() override {
    actions_.reset();
    state_.reset();
    std::filesystem::remove_all(dir_);
  }

  FunctionSpec spec(const std::string& name, bool idempotent) {
    FunctionSpec s;
    s.name = name;
    s.version = "1";
    s.runtime = "fixed";
    s.triggers = {"plant/#"};
    s.idempotent = idempotent;
    s.outputs = {OutputRule{}, OutputRule{OutputRule::Kind::kKv, "", false, "seen/{function}", {}}};
    return s;
  }

  static Event event(const std::string& id) {
    Event e;
    e.id = id;
    e.subject = "plant/pump1/temp";
    e.telemetry = Telemetry{Symbol::intern(e.subject), 1'000'000'000, {0.5}};
    return e;
  }

  std::filesystem::path dir_;
  std::unique_ptr<StateStore> state_;
  LocalBus bus_;
  std::unique_ptr<Actions> actions_;
  int published_ = 0;
};

TEST_F(IdempotencyTest, ARedeliveredEventActsOnce) {
  const FunctionSpec s = spec("once", true);
  FunctionRunner runner(s,
                        std::make_shared<testing::FixedExecutor>(0.9, std::chrono::milliseconds(0)),
                        *state_, *actions_);
  runner.handle(event("ev-1"));
  runner.handle(event("ev-1"));  // redelivered
  runner.handle(event("ev-2"));
  EXPECT_EQ(published_, 2);
  EXPECT_EQ(runner.decisions(), 2U);
  EXPECT_EQ(metrics().counter("sie_duplicate_events_total", "", {{"function", "once@1"}}).value(),
            1U);
  EXPECT_TRUE(*state_->kv().get("applied/once@1/ev-1"));
}

TEST_F(IdempotencyTest, WithoutItEveryDeliveryActs) {
  const FunctionSpec s = spec("every", false);
  FunctionRunner runner(s,
                        std::make_shared<testing::FixedExecutor>(0.9, std::chrono::milliseconds(0)),
                        *state_, *actions_);
  runner.handle(event("ev-1"));
  runner.handle(event("ev-1"));
  EXPECT_EQ(published_, 2);
  EXPECT_FALSE(*state_->kv().get("applied/every@1/ev-1"));
}

class FailingExecutor final : public Executor {
 public:
  [[nodiscard]] std::string_view name() const override { return "failing"; }
  Status validate(const FunctionSpec&) const override { return ok(); }
  Result<std::unique_ptr<FunctionInstance>> instantiate(const FunctionSpec&) override {
    class Instance final : public FunctionInstance {
     public:
      explicit Instance(std::atomic<int>& calls) : calls_(calls) {}
      Result<Output> invoke(const Invocation&) override {
        return fail(Errc::kIo, "attempt " + std::to_string(++calls_) + " failed");
      }

     private:
      std::atomic<int>& calls_;
    };
    return std::make_unique<Instance>(calls);
  }
  std::atomic<int> calls{0};
};

TEST_F(IdempotencyTest, RetriesBackOffAndTheLastErrorIsDeadLettered) {
  FunctionSpec s = spec("retrying", true);
  s.retries = 3;
  s.retry_delay = std::chrono::milliseconds(300);
  auto runtime = std::make_shared<FailingExecutor>();
  const StoppedClock clock;
  FunctionRunner runner(s, runtime, *state_, *actions_, clock);
  // Each failure with retries left is handed back with its delay (doubled, at most a second)
  // instead of sleeping here; the dispatcher waits on a timer.
  const Event ev = event("ev-9");
  std::vector<std::chrono::milliseconds> waits;
  for (int failures = 0; failures < 3; ++failures) {
    const Handled handled = runner.handle(ev, failures);
    ASSERT_EQ(handled.done, 0U) << failures;
    waits.push_back(handled.retry_after);
    EXPECT_EQ(state_->deadLetters().count().value_or(-1), 0);
  }
  EXPECT_EQ(waits, (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(300),
                                                           std::chrono::milliseconds(600),
                                                           std::chrono::milliseconds(1000)}));
  EXPECT_EQ(runner.handle(ev, 3).done, 1U);  // the last try: dead-lettered
  EXPECT_EQ(runtime->calls, 4);
  EXPECT_EQ(runner.errors(), 1U);
  EXPECT_EQ(published_, 0);
  auto letters = state_->deadLetters().list(10);
  ASSERT_TRUE(letters);
  ASSERT_EQ(letters->size(), 1U);
  EXPECT_NE(letters->front().reason.find("attempt 4 failed"), std::string::npos)
      << letters->front().reason;
  EXPECT_EQ(letters->front().ts_ns, clock.nowNs());
}

TEST_F(IdempotencyTest, ADirectCallWaitsForItsRetriesItself) {
  FunctionSpec s = spec("called", false);
  s.retries = 2;
  s.retry_delay = std::chrono::milliseconds(20);
  auto runtime = std::make_shared<FailingExecutor>();
  FunctionRunner runner(s, runtime, *state_, *actions_);
  auto answer = runner.call(event("ev-10"), false);
  ASSERT_FALSE(answer);
  EXPECT_NE(answer.error().message.find("attempt 3 failed"), std::string::npos);
  EXPECT_EQ(runtime->calls, 3);
  EXPECT_EQ(state_->deadLetters().count().value_or(-1), 0);  // the caller has the error
}

}  // namespace
}  // namespace sie::node
