// Instance pools: scale to zero after idling, keep min, start ahead of queued work, let callers
// wait for a starting instance, drop unhealthy instances, and pre-warm from learned idle times.
#include "runtime/instance_pool.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "sie/metrics.h"

namespace sie::node {
namespace {

using namespace std::chrono_literals;

class ManualClock final : public Clock {
 public:
  [[nodiscard]] std::int64_t nowNs() const override { return mono; }
  [[nodiscard]] std::int64_t monotonicNs() const override { return mono; }
  void advance(std::chrono::nanoseconds d) { mono += d.count(); }
  std::atomic<std::int64_t> mono{1'000'000'000};
};

// Instances that count themselves; `healthy` is what they report once invoked.
class CountingExecutor final : public Executor {
 public:
  [[nodiscard]] std::string_view name() const override { return "counting"; }
  Status validate(const FunctionSpec&) const override { return ok(); }
  Result<std::unique_ptr<FunctionInstance>> instantiate(const FunctionSpec&) override {
    class Instance final : public FunctionInstance {
     public:
      explicit Instance(CountingExecutor& owner) : owner_(owner) { ++owner_.alive; }
      ~Instance() override { --owner_.alive; }
      Result<Output> invoke(const Invocation&) override { return Output{}; }
      [[nodiscard]] bool healthy() const override { return owner_.healthy; }

     private:
      CountingExecutor& owner_;
    };
    ++started;
    std::this_thread::sleep_for(start_delay);
    return std::make_unique<Instance>(*this);
  }
  std::atomic<int> alive{0};
  std::atomic<int> started{0};
  std::atomic<bool> healthy{true};
  std::chrono::milliseconds start_delay{0};
};

FunctionSpec spec(const std::string& name, int min, int max, bool prewarm = false) {
  FunctionSpec s;
  s.name = name;
  s.version = "1";
  s.scaling.min = min;
  s.scaling.max = max;
  s.scaling.idle_timeout = 60s;
  s.scaling.prewarm = prewarm;
  return s;
}

std::uint64_t counter(const std::string& name, const FunctionSpec& s) {
  return metrics().counter(name, "", {{"function", s.id()}}).value();
}

class InstancePoolTest : public ::testing::Test {
 protected:
  std::shared_ptr<CountingExecutor> runtime_ = std::make_shared<CountingExecutor>();
  ManualClock clock_;
};

TEST_F(InstancePoolTest, ScalesToZeroAfterTheIdleTimeoutAndCountsTheNextColdStart) {
  const FunctionSpec s = spec("to-zero", 0, 3);
  InstancePool pool(runtime_, s, clock_);
  ASSERT_TRUE(pool.warm());
  EXPECT_EQ(pool.live(), 0);
  {
    auto lease = pool.acquire();
    ASSERT_TRUE(lease);
  }
  EXPECT_EQ(counter("sie_cold_starts_total", s), 1U);
  EXPECT_EQ(pool.live(), 1);
  clock_.advance(59s);
  pool.tick(0);
  EXPECT_EQ(pool.live(), 1);
  clock_.advance(2s);
  pool.tick(0);
  EXPECT_EQ(pool.live(), 0);
  EXPECT_EQ(runtime_->alive, 0);
  EXPECT_EQ(counter("sie_instance_idle_milliseconds_total", s), 61'000U);
  {
    auto lease = pool.acquire();
    ASSERT_TRUE(lease);
  }
  EXPECT_EQ(counter("sie_cold_starts_total", s), 2U);
}

TEST_F(InstancePoolTest, KeepsMinWarm) {
  const FunctionSpec s = spec("keeps-min", 2, 4);
  InstancePool pool(runtime_, s, clock_);
  ASSERT_TRUE(pool.warm());
  EXPECT_EQ(pool.live(), 2);
  { auto a = pool.acquire(), b = pool.acquire(), c = pool.acquire(); }
  EXPECT_EQ(pool.live(), 3);
  clock_.advance(10min);
  pool.tick(0);
  EXPECT_EQ(pool.live(), 2);
  EXPECT_EQ(counter("sie_cold_starts_total", s), 1U);  // only the third caller waited
}

TEST_F(InstancePoolTest, StartsInstancesAheadOfQueuedWorkUpToMax) {
  const FunctionSpec s = spec("ahead", 0, 6);
  InstancePool pool(runtime_, s, clock_);
  pool.tick(3);
  EXPECT_EQ(pool.idle(), 3);
  pool.tick(100);  // at most 4 per tick, never past max
  EXPECT_EQ(pool.live(), 6);
  pool.tick(100);
  EXPECT_EQ(pool.live(), 6);
  EXPECT_EQ(counter("sie_cold_starts_total", s), 0U);
  EXPECT_EQ(counter("sie_instance_starts_total", s), 6U);
}

TEST_F(InstancePoolTest, CallersWaitForAStartingInstanceInsteadOfFailing) {
  const FunctionSpec s = spec("from-zero", 0, 1);
  runtime_->start_delay = 100ms;
  InstancePool pool(runtime_, s, clock_);
  std::atomic<int> served{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 4; ++i) {
    callers.emplace_back([&] {
      auto lease = pool.acquire();
      if (lease) ++served;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(served, 4);
  EXPECT_EQ(runtime_->started, 1);  // one instance at max 1; the others waited for it
}

TEST_F(InstancePoolTest, UnhealthyInstancesAreDroppedAndReplaced) {
  const FunctionSpec s = spec("unhealthy", 1, 2);
  InstancePool pool(runtime_, s, clock_);
  ASSERT_TRUE(pool.warm());
  runtime_->healthy = false;
  { auto lease = pool.acquire(); }
  EXPECT_EQ(pool.live(), 0);
  EXPECT_EQ(runtime_->alive, 0);
  EXPECT_EQ(counter("sie_instances_failed_total", s), 1U);
  runtime_->healthy = true;
  pool.tick(0);  // back to min
  EXPECT_EQ(pool.live(), 1);
}

TEST_F(InstancePoolTest, PrewarmLoadsAPeriodicFunctionJustBeforeItsNextArrival) {
  const FunctionSpec s = spec("periodic", 0, 1, true);
  InstancePool pool(runtime_, s, clock_);
  // Learn: an invocation every 5 minutes.
  for (int i = 0; i < 12; ++i) {
    {
      auto lease = pool.acquire();
      ASSERT_TRUE(lease);
    }
    clock_.advance(300s);
    pool.tick(0);
  }
  ASSERT_TRUE(pool.keepAlive().learned);
  const auto cold_before = counter("sie_cold_starts_total", s);
  // Now the instance is unloaded right after each invocation and back before the next one.
  for (int i = 0; i < 5; ++i) {
    {
      auto lease = pool.acquire();
      ASSERT_TRUE(lease);
    }
    clock_.advance(1s);
    pool.tick(0);
    EXPECT_EQ(pool.live(), 0) << "round " << i;
    clock_.advance(280s);
    pool.tick(0);
    EXPECT_EQ(pool.live(), 1) << "round " << i;
    clock_.advance(19s);
    pool.tick(0);
  }
  EXPECT_EQ(counter("sie_cold_starts_total", s), cold_before);
  EXPECT_GE(counter("sie_prewarms_total", s), 5U);
}

}  // namespace
}  // namespace sie::node

namespace sie::node {
namespace {

class BrokenExecutor final : public Executor {
 public:
  [[nodiscard]] std::string_view name() const override { return "broken"; }
  Status validate(const FunctionSpec&) const override { return ok(); }
  Result<std::unique_ptr<FunctionInstance>> instantiate(const FunctionSpec&) override {
    ++starts;
    return fail(Errc::kIo, "worker exited with code 1");
  }
  std::atomic<int> starts{0};
};

TEST(InstancePoolBackoffTest, ACrashLoopingFunctionBacksOffInsteadOfRespawning) {
  ManualClock clock;
  auto runtime = std::make_shared<BrokenExecutor>();
  const FunctionSpec s = spec("crash-loop", 0, 2);
  InstancePool pool(runtime, s, clock);
  EXPECT_FALSE(pool.acquire());  // first failure: tried
  EXPECT_FALSE(pool.acquire());  // second: tried, now backing off 100 ms
  EXPECT_EQ(runtime->starts, 2);
  auto refused = pool.acquire();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("crash-looping"), std::string::npos)
      << refused.error().str();
  pool.tick(10);  // nor does scaling start one
  EXPECT_EQ(runtime->starts, 2);
  clock.advance(150ms);
  EXPECT_FALSE(pool.acquire());  // tried again; back-off doubles to 200 ms
  EXPECT_EQ(runtime->starts, 3);
  clock.advance(150ms);
  EXPECT_FALSE(pool.acquire());
  EXPECT_EQ(runtime->starts, 3);
  EXPECT_EQ(counter("sie_crash_loop_backoffs_total", s), 2U);
}

}  // namespace
}  // namespace sie::node
