// Many threads at once on one store: appends, audit records, KV writes and reads, while the
// writer commits small batches. Also run under TSan (label "concurrency").
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "state/embedded_store.h"
#include "state_test_util.h"

namespace sie::state {
namespace {

using testing::openOrDie;
using testing::scalar;
using testing::TempDir;

constexpr int kAppenders = 4;
constexpr int kSensorsPerAppender = 5;
constexpr int kReadingsPerSensor = 2000;
constexpr int kAuditors = 2;
constexpr int kRecordsPerAuditor = 500;

std::string sensorName(int appender, int sensor) {
  return "conc/a" + std::to_string(appender) + "/s" + std::to_string(sensor);
}

TEST(StateConcurrencyTest, ParallelWritersAndReadersLoseNothing) {
  TempDir dir;
  EmbeddedOptions options;
  options.data_dir = dir.path();
  options.batch_interval = std::chrono::milliseconds(2);
  options.batch_max = 256;
  options.memory_window = 64;  // most reads of old data go to SQLite
  auto store = openOrDie(options);
  ASSERT_NE(store, nullptr);

  std::atomic<bool> writing{true};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kAppenders + kAuditors);
  for (int a = 0; a < kAppenders; ++a) {
    threads.emplace_back([&, a] {
      for (int i = 0; i < kReadingsPerSensor; ++i) {
        for (int s = 0; s < kSensorsPerAppender; ++s) {
          if (!store->timeSeries().append(scalar(sensorName(a, s), i, i))) ++failures;
        }
        // Every appender also writes to one shared sensor.
        if (!store->timeSeries().append(scalar("conc/shared", a * kReadingsPerSensor + i, a))) {
          ++failures;
        }
      }
    });
  }
  std::vector<std::vector<std::int64_t>> seqs(kAuditors);
  for (int t = 0; t < kAuditors; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRecordsPerAuditor; ++i) {
        auto seq = store->audit().append("decision", "auditor" + std::to_string(t), "{}");
        if (!seq) {
          ++failures;
          continue;
        }
        seqs[static_cast<std::size_t>(t)].push_back(*seq);
        if (i % 100 == 0 && !store->kv().put("progress/" + std::to_string(t), std::to_string(i))) {
          ++failures;
        }
      }
    });
  }
  std::thread reader([&] {
    while (writing.load()) {
      auto last = store->timeSeries().lastN(Symbol::intern(sensorName(0, 0)), 500);
      if (!last) ++failures;
      for (std::size_t i = 1; last && i < last->size(); ++i) {
        if ((*last)[i - 1].ts_ns > (*last)[i].ts_ns) ++failures;
      }
      if (!store->timeSeries().range(Symbol::intern("conc/shared"), 0, 1'000'000, 100)) ++failures;
      if (!store->audit().tail(10)) ++failures;
      if (!store->kv().get("progress/0")) ++failures;
    }
  });
  std::thread syncer([&] {
    while (writing.load()) {
      if (!store->sync()) ++failures;
    }
  });
  for (auto& t : threads) t.join();
  writing = false;
  reader.join();
  syncer.join();
  ASSERT_EQ(failures.load(), 0);

  std::set<std::int64_t> all_seqs;
  for (const auto& list : seqs) {
    for (std::size_t i = 1; i < list.size(); ++i) EXPECT_LT(list[i - 1], list[i]);
    all_seqs.insert(list.begin(), list.end());
  }
  EXPECT_EQ(all_seqs.size(), static_cast<std::size_t>(kAuditors * kRecordsPerAuditor));

  auto check = [&](StateStore& s) {
    for (int a = 0; a < kAppenders; ++a) {
      for (int k = 0; k < kSensorsPerAppender; ++k) {
        auto readings = s.timeSeries().range(Symbol::intern(sensorName(a, k)), 0,
                                             kReadingsPerSensor, 1'000'000);
        ASSERT_TRUE(readings) << readings.error().str();
        ASSERT_EQ(readings->size(), static_cast<std::size_t>(kReadingsPerSensor));
      }
    }
    auto shared = s.timeSeries().lastN(Symbol::intern("conc/shared"), 1'000'000);
    ASSERT_TRUE(shared);
    EXPECT_EQ(shared->size(), static_cast<std::size_t>(kAppenders * kReadingsPerSensor));
    auto report = s.audit().verify();
    ASSERT_TRUE(report) << report.error().str();
    EXPECT_TRUE(report->ok) << report->problem;
    EXPECT_EQ(report->records, kAuditors * kRecordsPerAuditor);
  };
  check(*store);
  ASSERT_TRUE(store->close());
  store.reset();
  auto reopened = openOrDie(options);
  ASSERT_NE(reopened, nullptr);
  check(*reopened);
}

}  // namespace
}  // namespace sie::state
