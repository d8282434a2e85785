#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sie/metrics.h"
#include "state/embedded_store.h"
#include "state_test_util.h"

namespace sie::state {
namespace {

using testing::manualOptions;
using testing::openOrDie;
using testing::TempDir;

DeadLetter letter(std::string origin, std::string reason, std::string payload = "{}") {
  DeadLetter l;
  l.origin = std::move(origin);
  l.reason = std::move(reason);
  l.subject = "plant/pump1/temp";
  l.payload = std::move(payload);
  return l;
}

std::vector<std::int64_t> ids(const std::vector<DeadLetter>& letters) {
  std::vector<std::int64_t> out;
  out.reserve(letters.size());
  for (const auto& l : letters) out.push_back(l.id);
  return out;
}

TEST(StateDeadLettersTest, ListIsNewestFirstAcrossCommittedAndPending) {
  TempDir dir;
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  auto& letters = store->deadLetters();
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(letters.put(letter("gateway", "bad " + std::to_string(i))));
  }
  ASSERT_TRUE(store->sync());
  for (int i = 4; i <= 5; ++i) {
    ASSERT_TRUE(letters.put(letter("gateway", "bad " + std::to_string(i))));
  }

  EXPECT_EQ(letters.count().value(), 5);
  auto newest = letters.list(3);
  ASSERT_TRUE(newest) << newest.error().str();
  EXPECT_EQ(ids(*newest), (std::vector<std::int64_t>{5, 4, 3}));
  EXPECT_EQ(newest->front().reason, "bad 5");
  EXPECT_GT(newest->front().ts_ns, 0);
  EXPECT_EQ(ids(letters.list(100).value()), (std::vector<std::int64_t>{5, 4, 3, 2, 1}));
  EXPECT_TRUE(letters.list(0).value().empty());
}

TEST(StateDeadLettersTest, SurviveReopenWithTheirPayloadBytes) {
  TempDir dir;
  const std::string payload("\x01\x00\xfe raw", 7);
  {
    auto store = openOrDie(manualOptions(dir.path()));
    ASSERT_NE(store, nullptr);
    DeadLetter l = letter("dispatcher", "queue full", payload);
    l.ts_ns = 1234;
    ASSERT_TRUE(store->deadLetters().put(l));
    ASSERT_TRUE(store->deadLetters().put(letter("dispatcher", "timeout")));
  }
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->deadLetters().count().value(), 2);
  auto all = store->deadLetters().list(10).value();
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[1].payload, payload);
  EXPECT_EQ(all[1].ts_ns, 1234);
  EXPECT_EQ(all[1].origin, "dispatcher");
  EXPECT_EQ(all[1].subject, "plant/pump1/temp");
  // Ids continue after the reopen.
  ASSERT_TRUE(store->deadLetters().put(letter("gateway", "late")));
  EXPECT_EQ(store->deadLetters().list(1).value().at(0).id, 3);
}

TEST(StateDeadLettersTest, CountedInMetricsByOrigin) {
  TempDir dir;
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  Counter& counter =
      metrics().counter("sie_dead_letters_total", "", {{"origin", "function:dl-metrics-test@1"}});
  const auto before = counter.value();
  ASSERT_TRUE(store->deadLetters().put(letter("function:dl-metrics-test@1", "threw")));
  ASSERT_TRUE(store->deadLetters().put(letter("function:dl-metrics-test@1", "threw")));
  EXPECT_EQ(counter.value(), before + 2);
}

}  // namespace
}  // namespace sie::state
