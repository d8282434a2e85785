// kill -9 tests: a child process writes, syncs and kills itself without closing; the parent
// reopens the directory and checks that nothing synced was lost.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "sie/metrics.h"
#include "state/embedded_store.h"
#include "state_test_util.h"

namespace sie::state {
namespace {

using testing::manualOptions;
using testing::openOrDie;
using testing::scalar;
using testing::TempDir;

constexpr int kReadings = 20'000;
constexpr int kAuditRecords = 300;
constexpr int kUnsyncedAuditRecords = 50;

// Runs `body` in a child process that then SIGKILLs itself; returns once the child is dead.
// `body` returns false on failure, which the child reports through its exit status instead.
template <typename Body>
void runAndKill(Body body) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!body()) _exit(3);
    raise(SIGKILL);
    _exit(4);  // unreachable
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
}

bool check(const Status& status, const char* what) {
  if (!status) std::fprintf(stderr, "child: %s: %s\n", what, status.error().str().c_str());
  return static_cast<bool>(status);
}

TEST(StateDurabilityTest, SyncedWritesSurviveKill9) {
  TempDir dir;
  runAndKill([&] {
    auto opened = openEmbedded(manualOptions(dir.path()));
    if (!opened) return false;
    StateStore& store = **opened;
    for (int i = 0; i < kReadings; ++i) {
      if (!check(store.timeSeries().append(scalar("kill9/flow", i + 1, i * 0.5)), "append")) {
        return false;
      }
    }
    for (int i = 1; i <= kAuditRecords; ++i) {
      if (!store.audit().append("decision", "kill9", "{\"i\":" + std::to_string(i) + "}")) {
        return false;
      }
    }
    if (!check(store.kv().put("setpoint", "72.5"), "put")) return false;
    DeadLetter letter;
    letter.origin = "gateway";
    letter.reason = "unparsable";
    if (!check(store.deadLetters().put(letter), "dead letter")) return false;
    if (!check(store.sync(), "sync")) return false;
    // Accepted but never synced: may be lost, must not damage the chain.
    for (int i = 0; i < kUnsyncedAuditRecords; ++i) {
      (void)store.audit().append("decision", "kill9", "{\"late\":true}");
    }
    return true;  // the caller kills the process with the store still open
  });

  // `sie audit verify` works on what the crash left, before any store recovers it.
  auto crashed = verifyAuditChain(dir.path());
  ASSERT_TRUE(crashed) << crashed.error().str();
  EXPECT_TRUE(crashed->ok) << crashed->problem;
  EXPECT_GE(crashed->records, kAuditRecords);

  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  auto readings = store->timeSeries().lastN(Symbol::intern("kill9/flow"), kReadings + 10);
  ASSERT_TRUE(readings) << readings.error().str();
  ASSERT_EQ(readings->size(), static_cast<std::size_t>(kReadings));
  for (int i = 0; i < kReadings; ++i) {
    ASSERT_EQ(readings->at(static_cast<std::size_t>(i)).ts_ns, i + 1);
    ASSERT_DOUBLE_EQ(readings->at(static_cast<std::size_t>(i)).values.at(0), i * 0.5);
  }
  EXPECT_EQ(store->kv().get("setpoint").value(), "72.5");
  EXPECT_EQ(store->deadLetters().count().value(), 1);

  auto report = store->audit().verify();
  ASSERT_TRUE(report) << report.error().str();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_GE(report->records, kAuditRecords);
  EXPECT_LE(report->records, kAuditRecords + kUnsyncedAuditRecords);

  // The chain goes on from whatever the crash left.
  const std::int64_t next = store->audit().append("lifecycle", "node", "{}").value();
  EXPECT_EQ(next, report->records + 1);
  ASSERT_TRUE(store->close());
  EXPECT_TRUE(verifyAuditChain(dir.path())->ok);
}

TEST(StateDurabilityTest, BatchesCommittedByTheTimerSurviveKill9) {
  TempDir dir;
  runAndKill([&] {
    auto options = manualOptions(dir.path());
    options.batch_interval = std::chrono::milliseconds(5);
    auto opened = openEmbedded(options);
    if (!opened) return false;
    StateStore& store = **opened;
    const Counter& committed =
        metrics().counter("sie_state_writes_total", "", {{"kind", "reading"}});
    const std::uint64_t before = committed.value();
    for (int i = 1; i <= 100; ++i) {
      if (!store.timeSeries().append(scalar("kill9/timer", i, i))) return false;
    }
    // No sync(): wait (with a deadline) until the timer-driven batch has committed.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (committed.value() < before + 100) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  });
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  auto readings = store->timeSeries().lastN(Symbol::intern("kill9/timer"), 1000);
  ASSERT_TRUE(readings);
  EXPECT_EQ(readings->size(), 100U);
}

}  // namespace
}  // namespace sie::state
