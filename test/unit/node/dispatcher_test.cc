#include "runtime/dispatcher.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include "stopped_clock.h"

namespace sie::node {
namespace {

class MemoryDeadLetters final : public DeadLetterStore {
 public:
  Status put(DeadLetter letter) override {
    std::lock_guard lock(mu_);
    letters_.push_back(std::move(letter));
    return ok();
  }
  Result<std::vector<DeadLetter>> list(std::size_t) override {
    std::lock_guard lock(mu_);
    return letters_;
  }
  Result<std::int64_t> count() override {
    std::lock_guard lock(mu_);
    return static_cast<std::int64_t>(letters_.size());
  }

 private:
  std::mutex mu_;
  std::vector<DeadLetter> letters_;
};

using sie::testing::StoppedClock;  // dead letters carry the node's clock, not the system's

Event reading(const std::string& sensor, std::int64_t ts) {
  Event e;
  e.subject = sensor;
  e.telemetry = Telemetry{Symbol::intern(sensor), ts, {static_cast<double>(ts)}};
  return e;
}

// A gate that holds handlers until opened, so tests can fill queues deterministically.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST(DispatcherTest, KeepsPerSensorOrderAcrossWorkers) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 4;
  options.lanes = 8;
  Dispatcher d(options, dead);
  std::mutex mu;
  std::map<std::string, std::vector<std::int64_t>> seen;
  const std::uint32_t target = *d.addTarget("order@1", [&](const Event& e) {
    std::lock_guard lock(mu);
    seen[e.subject].push_back(e.telemetry->ts_ns);
  });
  d.start();
  const std::uint32_t targets[] = {target};
  for (int ts = 0; ts < 2000; ++ts) {
    for (int s = 0; s < 10; ++s) {
      ASSERT_TRUE(d.deliver(reading("order/s" + std::to_string(s), ts), targets));
    }
  }
  ASSERT_TRUE(d.drain(std::chrono::seconds(30)));
  d.stop();
  ASSERT_EQ(seen.size(), 10u);
  for (const auto& [sensor, stamps] : seen) {
    ASSERT_EQ(stamps.size(), 2000u) << sensor;
    for (std::size_t i = 1; i < stamps.size(); ++i) ASSERT_LT(stamps[i - 1], stamps[i]) << sensor;
  }
}

TEST(DispatcherTest, FansOutToEveryTarget) {
  MemoryDeadLetters dead;
  Dispatcher d(DispatcherOptions{}, dead);
  std::atomic<int> a{0}, b{0};
  const std::uint32_t ta = *d.addTarget("a@1", [&](const Event&) { ++a; });
  const std::uint32_t tb = *d.addTarget("b@1", [&](const Event&) { ++b; });
  d.start();
  const std::uint32_t both[] = {ta, tb};
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(d.deliver(reading("fan/x", i), both));
  d.stop();
  EXPECT_EQ(a.load(), 100);
  EXPECT_EQ(b.load(), 100);
}

TEST(DispatcherTest, TargetsAddedWhileEventsFlowGetTheirEvents) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 2;
  Dispatcher d(options, dead);
  std::atomic<int> first{0};
  const std::uint32_t t0 = *d.addTarget("first@1", [&](const Event&) { ++first; });
  d.start();
  std::vector<std::uint32_t> ids{t0};
  std::vector<std::unique_ptr<std::atomic<int>>> counts;
  for (int k = 0; k < 20; ++k) {
    counts.push_back(std::make_unique<std::atomic<int>>(0));
    auto* count = counts.back().get();
    ids.push_back(
        *d.addTarget("late" + std::to_string(k) + "@1", [count](const Event&) { ++*count; }));
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(d.deliver(reading("late/x", i), ids));
  }
  ASSERT_TRUE(d.drain(std::chrono::seconds(30)));
  d.stop();
  EXPECT_EQ(first.load(), 20 * 50);
  for (int k = 0; k < 20; ++k) EXPECT_EQ(counts[k]->load(), (20 - k) * 50) << k;
}

TEST(DispatcherTest, DropOldestCountsWhatItDrops) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 1;
  options.lanes = 1;
  options.queue_capacity = 4;
  options.overload = OverloadPolicy::kDropOldest;
  Dispatcher d(options, dead);
  Gate gate;
  std::vector<std::int64_t> handled;
  const std::uint32_t t = *d.addTarget("drop@1", [&](const Event& e) {
    gate.wait();
    handled.push_back(e.telemetry->ts_ns);
  });
  Counter& dropped = metrics().counter("sie_queue_dropped_total", "", {{"function", "drop@1"}});
  const std::uint64_t before = dropped.value();
  d.start();
  const std::uint32_t targets[] = {t};
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(d.deliver(reading("drop/x", i), targets));
  gate.open();
  d.stop();
  EXPECT_GT(dropped.value() - before, 0u);
  EXPECT_EQ(handled.size() + (dropped.value() - before), 20u);
  EXPECT_EQ(handled.back(), 19);  // the newest survives
}

TEST(DispatcherTest, DeadLetterPolicyParksTheOverflowWithItsReason) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 1;
  options.lanes = 1;
  options.queue_capacity = 2;
  options.overload = OverloadPolicy::kDeadLetter;
  const StoppedClock clock;
  Dispatcher d(options, dead, clock);
  Gate gate;
  std::atomic<int> handled{0};
  const std::uint32_t t = *d.addTarget("park@1", [&](const Event&) {
    gate.wait();
    ++handled;
  });
  d.start();
  const std::uint32_t targets[] = {t};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(d.deliver(reading("park/x", i), targets));
  gate.open();
  d.stop();
  const auto parked = *dead.count();
  EXPECT_GT(parked, 0);
  EXPECT_EQ(handled.load() + parked, 10);
  const DeadLetter letter = dead.list(1)->front();
  EXPECT_NE(letter.reason.find("park@1 queue is full (2 events)"), std::string::npos);
  EXPECT_NE(letter.payload.find("\"sensor\":\"park/x\""), std::string::npos) << letter.payload;
  EXPECT_EQ(letter.ts_ns, clock.nowNs());
}

TEST(DispatcherTest, BlockPolicyRefusesAfterTheTimeout) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 1;
  options.lanes = 1;
  options.queue_capacity = 1;
  options.overload = OverloadPolicy::kBlock;
  options.block_timeout = std::chrono::milliseconds(50);
  Dispatcher d(options, dead);
  Gate gate;
  std::atomic<int> handled{0};
  const std::uint32_t t = *d.addTarget("block@1", [&](const Event&) {
    gate.wait();
    ++handled;
  });
  d.start();
  const std::uint32_t targets[] = {t};
  ASSERT_TRUE(d.deliver(reading("block/x", 0), targets));
  // The first event is running (blocked in the gate) or queued; keep delivering until refused.
  Status refused = ok();
  int accepted = 1;
  for (int i = 1; i < 5 && refused; ++i) {
    refused = d.deliver(reading("block/x", i), targets);
    if (refused) ++accepted;
  }
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kOverload);
  gate.open();
  d.stop();
  EXPECT_EQ(handled.load(), accepted);  // everything accepted was handled; nothing lost
  EXPECT_EQ(*dead.count(), 0);
}

// The Downstream contract: a refused event is left untouched, so the gateway's dead letter
// carries its subject and values.
TEST(DispatcherTest, ARefusedEventIsLeftUntouched) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 1;
  options.lanes = 1;
  options.queue_capacity = 1;
  options.overload = OverloadPolicy::kBlock;
  options.block_timeout = std::chrono::milliseconds(20);
  Dispatcher d(options, dead);
  Gate gate;
  const std::uint32_t t = *d.addTarget("held@1", [&](const Event&) { gate.wait(); });
  d.start();
  const std::uint32_t targets[] = {t};
  Status delivered = ok();
  Event event;
  for (int i = 0; i < 5 && delivered; ++i) {
    event = reading("held/x", 100 + i);
    delivered = d.deliver(std::move(event), targets);
  }
  ASSERT_FALSE(delivered);
  // NOLINTNEXTLINE(bugprone-use-after-move): refused, so by contract untouched
  EXPECT_EQ(event.subject, "held/x");
  ASSERT_TRUE(event.telemetry);
  EXPECT_EQ(event.telemetry->values, std::vector<double>{event.telemetry->ts_ns * 1.0});
  EXPECT_GE(event.telemetry->ts_ns, 101);
  gate.open();
  d.stop();
}

// An event that one function refuses and another takes goes on to the second and is
// dead-lettered for the first only, with its subject, values and the refusing function's name.
TEST(DispatcherTest, APartialFanOutRefusalIsDeadLetteredOnlyForTheRefusingFunction) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 2;
  options.lanes = 1;
  options.queue_capacity = 1;
  options.overload = OverloadPolicy::kBlock;
  options.block_timeout = std::chrono::milliseconds(100);
  Dispatcher d(options, dead);
  Gate gate;
  std::atomic<int> slow_handled{0};
  std::atomic<int> fast_handled{0};
  const std::uint32_t slow = *d.addTarget("slow@1", [&](const Event&) {
    gate.wait();
    ++slow_handled;
  });
  const std::uint32_t fast = *d.addTarget("fast@1", [&](const Event&) { ++fast_handled; });
  d.start();
  const std::uint32_t targets[] = {slow, fast};
  int delivered = 0;
  while (*dead.count() == 0 && delivered < 10) {
    ASSERT_TRUE(d.deliver(reading("fan/x", delivered), targets));  // fast takes every one
    ++delivered;
  }
  gate.open();
  d.stop();
  EXPECT_EQ(fast_handled.load(), delivered);
  EXPECT_EQ(slow_handled.load(), delivered - 1);
  auto letters = *dead.list(10);
  ASSERT_EQ(letters.size(), 1U);
  EXPECT_EQ(letters[0].origin, "dispatcher");
  EXPECT_EQ(letters[0].subject, "fan/x");
  EXPECT_NE(letters[0].reason.find("slow@1"), std::string::npos) << letters[0].reason;
  EXPECT_NE(letters[0].payload.find(fmt::format("\"value\":{}", delivered - 1)), std::string::npos)
      << letters[0].payload;
}

TEST(DispatcherTest, BlockPolicyWaitsForSpaceInsteadOfFailing) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 2;
  options.queue_capacity = 8;
  options.overload = OverloadPolicy::kBlock;
  Dispatcher d(options, dead);
  std::atomic<int> handled{0};
  const std::uint32_t t = *d.addTarget("slow@1", [&](const Event&) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    ++handled;
  });
  d.start();
  const std::uint32_t targets[] = {t};
  for (int i = 0; i < 500; ++i)
    ASSERT_TRUE(d.deliver(reading("slow/" + std::to_string(i % 7), i), targets));
  d.stop();
  EXPECT_EQ(handled.load(), 500);
}

TEST(DispatcherTest, RefusesAfterStop) {
  MemoryDeadLetters dead;
  Dispatcher d(DispatcherOptions{}, dead);
  const std::uint32_t t = *d.addTarget("x@1", [](const Event&) {});
  d.start();
  d.stop();
  const std::uint32_t targets[] = {t};
  EXPECT_FALSE(d.deliver(reading("x/y", 1), targets));
}

}  // namespace
}  // namespace sie::node

namespace sie::node {
namespace {

TEST(DispatcherTest, MicroBatchesTakeWhatIsQueuedUpToMaxSizeInOrder) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 1;
  options.lanes = 1;
  Dispatcher d(options, dead);
  Gate gate;
  std::mutex mu;
  std::vector<std::size_t> sizes;
  std::vector<std::int64_t> order;
  const std::uint32_t target = *d.addTarget(
      "batch@1",
      [&](std::span<const Event* const> events, int) {
        if (sizes.empty()) gate.wait();  // the first call holds the worker while events queue
        std::lock_guard lock(mu);
        sizes.push_back(events.size());
        for (const Event* e : events) order.push_back(e->telemetry->ts_ns);
        return Handled::all(events.size());
      },
      BatchPolicy{16, std::chrono::microseconds(0)});
  d.start();
  const std::uint32_t targets[] = {target};
  ASSERT_TRUE(d.deliver(reading("batch/s1", 0), targets));
  for (int ts = 1; ts < 100; ++ts) ASSERT_TRUE(d.deliver(reading("batch/s1", ts), targets));
  gate.open();
  ASSERT_TRUE(d.drain(std::chrono::seconds(30)));
  d.stop();
  ASSERT_EQ(order.size(), 100u);
  for (std::size_t i = 0; i < order.size(); ++i) ASSERT_EQ(order[i], static_cast<std::int64_t>(i));
  std::size_t largest = 0;
  for (std::size_t n : sizes) {
    EXPECT_LE(n, 16u);
    largest = std::max(largest, n);
  }
  EXPECT_EQ(largest, 16u);  // 99 events queued behind the first call
}

TEST(DispatcherTest, MicroBatchWaitsUpToMaxDelayForTheBatchToFill) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 1;
  options.lanes = 1;
  Dispatcher d(options, dead);
  std::mutex mu;
  std::vector<std::size_t> sizes;
  const std::uint32_t target = *d.addTarget(
      "wait@1",
      [&](std::span<const Event* const> events, int) {
        std::lock_guard lock(mu);
        sizes.push_back(events.size());
        return Handled::all(events.size());
      },
      BatchPolicy{4, std::chrono::seconds(20)});  // a full batch ends the wait long before
  d.start();
  const std::uint32_t targets[] = {target};
  for (int ts = 0; ts < 4; ++ts) ASSERT_TRUE(d.deliver(reading("wait/s1", ts), targets));
  ASSERT_TRUE(d.drain(std::chrono::seconds(10)));
  d.stop();
  ASSERT_EQ(sizes, (std::vector<std::size_t>{4}));
}

TEST(DispatcherTest, AMicroBatchThatDoesNotFillIsHandedOverAfterMaxDelay) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 1;
  options.lanes = 1;
  Dispatcher d(options, dead);
  std::mutex mu;
  std::vector<std::size_t> sizes;
  const std::uint32_t target = *d.addTarget(
      "partial@1",
      [&](std::span<const Event* const> events, int) {
        std::lock_guard lock(mu);
        sizes.push_back(events.size());
        return Handled::all(events.size());
      },
      BatchPolicy{4, std::chrono::milliseconds(100)});
  d.start();
  const std::uint32_t targets[] = {target};
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(d.deliver(reading("partial/s1", 0), targets));
  ASSERT_TRUE(d.drain(std::chrono::seconds(10)));
  const auto waited = std::chrono::steady_clock::now() - sent;
  d.stop();
  EXPECT_EQ(sizes, (std::vector<std::size_t>{1}));
  EXPECT_GE(waited, std::chrono::milliseconds(100)) << "handed over before maxDelay";
}

TEST(DispatcherTest, AnInlineTargetRunsOnTheDeliveringThreadWhenItsLaneIsIdle) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 1;
  options.lanes = 1;
  Dispatcher d(options, dead);
  std::mutex mu;
  std::vector<std::thread::id> ran_on;
  const std::uint32_t fast = *d.addTarget("fast@1", [&](const Event&) {
    std::lock_guard lock(mu);
    ran_on.push_back(std::this_thread::get_id());
  });
  d.setInline(fast, true);
  d.start();
  const std::uint32_t targets[] = {fast};
  ASSERT_TRUE(d.deliver(reading("inline/s1", 1), targets));
  {
    std::lock_guard lock(mu);  // handled before deliver() returned, here
    ASSERT_EQ(ran_on, std::vector<std::thread::id>{std::this_thread::get_id()});
  }
  d.setInline(fast, false);
  ASSERT_TRUE(d.deliver(reading("inline/s1", 2), targets));
  ASSERT_TRUE(d.drain(std::chrono::seconds(10)));
  d.stop();
  ASSERT_EQ(ran_on.size(), 2U);
  EXPECT_NE(ran_on[1], std::this_thread::get_id()) << "not inline any more: a worker's";
}

TEST(DispatcherTest, AnInlineTargetKeepsEachLanesOrderWhileAWorkerHoldsTheLane) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 2;
  options.lanes = 1;
  Dispatcher d(options, dead);
  Gate gate;
  std::mutex mu;
  std::vector<std::int64_t> order;
  std::atomic<bool> first_running{false};
  const std::uint32_t target = *d.addTarget("ordered@1", [&](const Event& e) {
    if (e.telemetry->ts_ns == 1) {
      first_running = true;
      gate.wait();  // the lane stays busy on a worker while later events arrive
    }
    std::lock_guard lock(mu);
    order.push_back(e.telemetry->ts_ns);
  });
  d.start();
  const std::uint32_t targets[] = {target};
  ASSERT_TRUE(d.deliver(reading("ordered/s1", 1), targets));  // not inline yet: a worker's
  while (!first_running) std::this_thread::yield();
  d.setInline(target, true);
  for (std::int64_t ts = 2; ts <= 20; ++ts) {
    ASSERT_TRUE(d.deliver(reading("ordered/s1", ts), targets));  // queued behind the busy lane
  }
  gate.open();
  ASSERT_TRUE(d.drain(std::chrono::seconds(10)));
  ASSERT_TRUE(d.deliver(reading("ordered/s1", 21), targets));  // idle again: inline
  d.stop();
  std::vector<std::int64_t> expected(21);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(order, expected);
}

TEST(DispatcherTest, EventsDeliveredFromAnInlineHandlerAreQueued) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 1;
  options.lanes = 1;
  Dispatcher d(options, dead);
  std::atomic<int> nested_here{0};
  std::atomic<int> nested_handled{0};
  const auto caller = std::this_thread::get_id();
  const std::uint32_t next = *d.addTarget("next@1", [&](const Event&) {
    if (std::this_thread::get_id() == caller) ++nested_here;
    ++nested_handled;
  });
  std::uint32_t chained[] = {next};
  const std::uint32_t first = *d.addTarget("first@1", [&](const Event& e) {
    // A decision that triggers another function: its event goes to the workers, not deeper
    // into this thread's stack.
    ASSERT_TRUE(d.deliver(reading("chain/s2", e.telemetry->ts_ns), chained));
  });
  d.setInline(first, true);
  d.setInline(next, true);
  d.start();
  const std::uint32_t targets[] = {first};
  for (std::int64_t ts = 1; ts <= 5; ++ts) ASSERT_TRUE(d.deliver(reading("chain/s1", ts), targets));
  ASSERT_TRUE(d.drain(std::chrono::seconds(10)));
  d.stop();
  EXPECT_EQ(nested_handled.load(), 5);
  EXPECT_EQ(nested_here.load(), 0);
}

// A handler's retry parks the lane on a timer: the only worker goes on with other lanes meanwhile,
// the failed event's lane-mates wait behind it, and each hand-over says how often it failed.
TEST(DispatcherTest, ARetryWaitsOnATimerNotOnTheWorker) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 1;
  options.lanes = 64;
  Dispatcher d(options, dead);
  ASSERT_NE(Symbol::intern("retry/a").id() % 64, Symbol::intern("retry/b").id() % 64);
  std::mutex mu;
  std::vector<std::string> order;
  std::vector<int> failures_seen;
  const std::uint32_t target = *d.addTarget(
      "retry@1",
      [&](std::span<const Event* const> events, int failures) {
        std::lock_guard lock(mu);
        const Event& e = *events.front();
        const std::string name = fmt::format("{}{}", e.subject, e.telemetry->ts_ns);
        if (name == "retry/a1") {
          failures_seen.push_back(failures);
          // Long enough that a sleeping worker could not have run b's events meanwhile.
          if (failures < 2) return Handled{0, std::chrono::seconds(30)};
        }
        order.push_back(name);
        return Handled::all(1);
      },
      BatchPolicy{});
  d.start();
  const std::uint32_t targets[] = {target};
  ASSERT_TRUE(d.deliver(reading("retry/a", 1), targets));
  ASSERT_TRUE(d.deliver(reading("retry/a", 2), targets));  // same lane: waits behind a1
  for (std::int64_t ts = 1; ts <= 5; ++ts) ASSERT_TRUE(d.deliver(reading("retry/b", ts), targets));
  // b's events are handled while a1 and a2 wait for the timer.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < give_up) {
    {
      std::lock_guard lock(mu);
      if (order.size() >= 5) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(order, (std::vector<std::string>{"retry/b1", "retry/b2", "retry/b3", "retry/b4",
                                               "retry/b5"}));
    EXPECT_EQ(failures_seen, std::vector<int>{0});
  }
  EXPECT_EQ(d.queued(), 2U);
  d.stop(std::chrono::milliseconds(0));  // a stopping dispatcher retries at once
  EXPECT_EQ(failures_seen, (std::vector<int>{0, 1, 2}));
  ASSERT_EQ(order.size(), 7U);
  EXPECT_EQ(order[5], "retry/a1");
  EXPECT_EQ(order[6], "retry/a2");
}

// The turn ends at the failed event of a micro-batch: those before it are done once, it and those
// behind it come back together, and only the failed one carries its count.
TEST(DispatcherTest, ARetryInAMicroBatchHandsBackTheRestInOrder) {
  MemoryDeadLetters dead;
  DispatcherOptions options;
  options.workers = 1;
  options.lanes = 1;
  Dispatcher d(options, dead);
  std::mutex mu;
  std::vector<std::int64_t> done;
  std::vector<std::pair<std::int64_t, int>> handed;  // first event of each call, its failures
  const std::uint32_t target = *d.addTarget(
      "batch@1",
      [&](std::span<const Event* const> events, int failures) {
        std::lock_guard lock(mu);
        handed.emplace_back(events.front()->telemetry->ts_ns, failures);
        for (std::size_t i = 0; i < events.size(); ++i) {
          const std::int64_t ts = events[i]->telemetry->ts_ns;
          const int tried = i == 0 ? failures : 0;
          if (ts == 3 && tried == 0) return Handled{i, std::chrono::milliseconds(10)};
          done.push_back(ts);
        }
        return Handled::all(events.size());
      },
      BatchPolicy{8, std::chrono::milliseconds(200)});
  d.start();
  const std::uint32_t targets[] = {target};
  for (std::int64_t ts = 1; ts <= 6; ++ts) ASSERT_TRUE(d.deliver(reading("batch/s", ts), targets));
  ASSERT_TRUE(d.drain(std::chrono::seconds(10)));
  d.stop();
  EXPECT_EQ(done, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
  ASSERT_GE(handed.size(), 2U);
  EXPECT_EQ(handed[0], (std::pair<std::int64_t, int>{1, 0}));
  EXPECT_EQ(handed[1], (std::pair<std::int64_t, int>{3, 1}));
}

}  // namespace
}  // namespace sie::node
