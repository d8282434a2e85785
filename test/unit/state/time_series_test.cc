#include <cmath>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "state/embedded_store.h"
#include "state_test_util.h"

namespace sie::state {
namespace {

using testing::block;
using testing::iota;
using testing::manualOptions;
using testing::openOrDie;
using testing::scalar;
using testing::TempDir;
using testing::timestamps;

TEST(StateTimeSeriesTest, LastNAndRangeFromMemory) {
  TempDir dir;
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  auto& ts = store->timeSeries();
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(ts.append(scalar("mem/temp", i, i * 1.5)));

  auto last = ts.lastN(Symbol::intern("mem/temp"), 3);
  ASSERT_TRUE(last) << last.error().str();
  EXPECT_EQ(timestamps(*last), (std::vector<std::int64_t>{8, 9, 10}));
  EXPECT_DOUBLE_EQ(last->back().values.at(0), 15.0);

  auto all = ts.lastN(Symbol::intern("mem/temp"), 100);
  ASSERT_TRUE(all);
  EXPECT_EQ(timestamps(*all), iota(1, 10));

  auto window = ts.range(Symbol::intern("mem/temp"), 3, 7, 100);  // [3, 7)
  ASSERT_TRUE(window);
  EXPECT_EQ(timestamps(*window), (std::vector<std::int64_t>{3, 4, 5, 6}));
  auto limited = ts.range(Symbol::intern("mem/temp"), 3, 7, 2);
  ASSERT_TRUE(limited);
  EXPECT_EQ(timestamps(*limited), (std::vector<std::int64_t>{3, 4}));
}

TEST(StateTimeSeriesTest, UnknownSensorAndEmptyRequests) {
  TempDir dir;
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  auto& ts = store->timeSeries();
  ASSERT_TRUE(ts.append(scalar("known/a", 1, 1.0)));
  EXPECT_TRUE(ts.lastN(Symbol::intern("never/appended"), 5)->empty());
  EXPECT_TRUE(ts.range(Symbol::intern("never/appended"), 0, 100, 5)->empty());
  EXPECT_TRUE(ts.lastN(Symbol::intern("known/a"), 0)->empty());
  EXPECT_TRUE(ts.range(Symbol::intern("known/a"), 5, 5, 10)->empty());
  EXPECT_FALSE(ts.append(Telemetry{}));  // no sensor
}

TEST(StateTimeSeriesTest, BlocksKeepTheirSamplesInMemoryAndOnDisk) {
  TempDir dir;
  const std::vector<double> samples = {0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8};
  {
    auto store = openOrDie(manualOptions(dir.path()));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->timeSeries().append(block("pump1/vibration", 1000, samples, 125)));
    ASSERT_TRUE(store->timeSeries().append(scalar("pump1/vibration", 2000, 42.0)));
    auto last = store->timeSeries().lastN(Symbol::intern("pump1/vibration"), 2);
    ASSERT_TRUE(last);
    ASSERT_EQ(last->size(), 2U);
    EXPECT_THAT(last->at(0).values, ::testing::ElementsAreArray(samples));
    EXPECT_THAT(last->at(1).values, ::testing::ElementsAreArray(std::vector<double>{42.0}));
    ASSERT_TRUE(store->close());
  }
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  auto last = store->timeSeries().lastN(Symbol::intern("pump1/vibration"), 2);
  ASSERT_TRUE(last) << last.error().str();
  ASSERT_EQ(last->size(), 2U);
  EXPECT_EQ(last->at(0).ts_ns, 1000);
  EXPECT_THAT(last->at(0).values, ::testing::ElementsAreArray(samples));
  EXPECT_THAT(last->at(1).values, ::testing::ElementsAreArray(std::vector<double>{42.0}));
}

TEST(StateTimeSeriesTest, QualityAndNanSurviveReopen) {
  TempDir dir;
  {
    auto store = openOrDie(manualOptions(dir.path()));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->timeSeries().append(scalar("q/s", 1, 1.0, Quality::kUncertain)));
    ASSERT_TRUE(store->timeSeries().append(scalar("q/s", 2, std::nan(""), Quality::kBad)));
  }
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  auto last = store->timeSeries().lastN(Symbol::intern("q/s"), 2);
  ASSERT_TRUE(last);
  ASSERT_EQ(last->size(), 2U);
  EXPECT_EQ(last->at(0).quality, Quality::kUncertain);
  EXPECT_EQ(last->at(1).quality, Quality::kBad);
  ASSERT_EQ(last->at(1).values.size(), 1U);
  EXPECT_TRUE(std::isnan(last->at(1).values[0]));
}

// A file written before readings had a reason column (schema version 1) opens: the column is
// added in place, old readings read without a reason, new ones keep theirs.
TEST(StateTimeSeriesTest, AVersionOneFileGainsTheReasonColumn) {
  TempDir dir;
  {
    auto store = openOrDie(manualOptions(dir.path()));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->timeSeries().append(scalar("v1/s", 1, 1.0, Quality::kBad)));
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir.db().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "ALTER TABLE readings DROP COLUMN flag; PRAGMA user_version=1;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  Telemetry flagged = scalar("v1/s", 2, 2.0, Quality::kBad);
  flagged.flag = "device refused the read: exception 4 (Slave device or server failure)";
  ASSERT_TRUE(store->timeSeries().append(flagged));
  ASSERT_TRUE(store->sync());
  auto stored = store->timeSeries().range(Symbol::intern("v1/s"), 0, 10, 10);
  ASSERT_TRUE(stored) << stored.error().str();
  ASSERT_EQ(stored->size(), 2U);
  EXPECT_EQ(stored->at(0).flag, nullptr);
  ASSERT_NE(stored->at(1).flag, nullptr);
  EXPECT_EQ(*stored->at(1).flag, flagged.flag);
}

TEST(StateTimeSeriesTest, LastNAfterReopenComesFromSqlite) {
  TempDir dir;
  {
    auto store = openOrDie(manualOptions(dir.path()));
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= 100; ++i) ASSERT_TRUE(store->timeSeries().append(scalar("re/open", i, i)));
    ASSERT_TRUE(store->close());
  }
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  auto& ts = store->timeSeries();
  auto last = ts.lastN(Symbol::intern("re/open"), 10);
  ASSERT_TRUE(last) << last.error().str();
  EXPECT_EQ(timestamps(*last), iota(91, 100));
  auto window = ts.range(Symbol::intern("re/open"), 20, 25, 100);
  ASSERT_TRUE(window);
  EXPECT_EQ(timestamps(*window), iota(20, 24));

  // New readings after the reopen: the newest come from memory, the rest from SQLite.
  for (int i = 101; i <= 105; ++i) ASSERT_TRUE(ts.append(scalar("re/open", i, i)));
  auto mixed = ts.lastN(Symbol::intern("re/open"), 8);
  ASSERT_TRUE(mixed);
  EXPECT_EQ(timestamps(*mixed), iota(98, 105));
  auto newest = ts.lastN(Symbol::intern("re/open"), 5);
  ASSERT_TRUE(newest);
  EXPECT_EQ(timestamps(*newest), iota(101, 105));
}

TEST(StateTimeSeriesTest, RangeAndLastNAcrossTheMemoryWindowMergeUncommittedRows) {
  TempDir dir;
  auto options = manualOptions(dir.path());
  options.memory_window = 16;
  auto store = openOrDie(options);
  ASSERT_NE(store, nullptr);
  auto& ts = store->timeSeries();
  const Symbol sensor = Symbol::intern("edge/boundary");
  for (int i = 1; i <= 100; ++i) ASSERT_TRUE(ts.append(scalar("edge/boundary", i, i)));

  // Nothing committed yet: the answer comes from the write queue.
  EXPECT_EQ(timestamps(*ts.lastN(sensor, 50)), iota(51, 100));
  EXPECT_EQ(timestamps(*ts.range(sensor, 1, 101, 1000)), iota(1, 100));

  ASSERT_TRUE(store->sync());
  for (int i = 101; i <= 120; ++i) ASSERT_TRUE(ts.append(scalar("edge/boundary", i, i)));
  // 1..100 in SQLite, 101..120 queued, 105..120 in memory.
  EXPECT_EQ(timestamps(*ts.lastN(sensor, 50)), iota(71, 120));
  EXPECT_EQ(timestamps(*ts.lastN(sensor, 16)), iota(105, 120));
  EXPECT_EQ(timestamps(*ts.range(sensor, 90, 110, 1000)), iota(90, 109));
  EXPECT_EQ(timestamps(*ts.range(sensor, 1, 1000, 5)), iota(1, 5));
  EXPECT_EQ(timestamps(*ts.lastN(sensor, 1000)), iota(1, 120));
}

TEST(StateTimeSeriesTest, OutOfOrderReadingsAreReturnedInTimestampOrder) {
  TempDir dir;
  auto options = manualOptions(dir.path());
  options.memory_window = 4;
  auto store = openOrDie(options);
  ASSERT_NE(store, nullptr);
  auto& ts = store->timeSeries();
  for (std::int64_t t : {10, 30, 20, 50, 40, 5, 60}) {
    ASSERT_TRUE(ts.append(scalar("late/arrivals", t, static_cast<double>(t))));
  }
  const Symbol sensor = Symbol::intern("late/arrivals");
  EXPECT_EQ(timestamps(*ts.lastN(sensor, 3)), (std::vector<std::int64_t>{40, 50, 60}));
  EXPECT_EQ(timestamps(*ts.lastN(sensor, 7)),
            (std::vector<std::int64_t>{5, 10, 20, 30, 40, 50, 60}));
  EXPECT_EQ(timestamps(*ts.range(sensor, 0, 35, 10)), (std::vector<std::int64_t>{5, 10, 20, 30}));
  ASSERT_TRUE(store->sync());
  EXPECT_EQ(timestamps(*ts.lastN(sensor, 7)),
            (std::vector<std::int64_t>{5, 10, 20, 30, 40, 50, 60}));
}

TEST(StateTimeSeriesTest, ManySensorsKeepTheirOwnReadings) {
  TempDir dir;
  constexpr int kSensors = 300;
  constexpr int kPerSensor = 20;
  auto sensorName = [](int s) {
    return "plant/line" + std::to_string(s % 7) + "/s" + std::to_string(s);
  };
  {
    auto options = manualOptions(dir.path());
    options.batch_max = 512;  // several commits on the way
    auto store = openOrDie(options);
    ASSERT_NE(store, nullptr);
    for (int r = 0; r < kPerSensor; ++r) {
      for (int s = 0; s < kSensors; ++s) {
        ASSERT_TRUE(store->timeSeries().append(scalar(sensorName(s), r, s * 1000 + r)));
      }
    }
    for (int s = 0; s < kSensors; s += 37) {
      auto last = store->timeSeries().lastN(Symbol::intern(sensorName(s)), 1);
      ASSERT_EQ(last->size(), 1U);
      EXPECT_DOUBLE_EQ(last->at(0).values[0], s * 1000 + kPerSensor - 1);
    }
  }
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  for (int s = 0; s < kSensors; ++s) {
    auto all = store->timeSeries().lastN(Symbol::intern(sensorName(s)), 1000);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), static_cast<std::size_t>(kPerSensor)) << sensorName(s);
    EXPECT_DOUBLE_EQ(all->front().values[0], s * 1000);
  }
}

TEST(StateTimeSeriesTest, AppendFailsAfterClose) {
  TempDir dir;
  auto store = openOrDie(manualOptions(dir.path()));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->close());
  auto appended = store->timeSeries().append(scalar("closed/s", 1, 1.0));
  ASSERT_FALSE(appended);
  EXPECT_NE(appended.error().message.find("closed"), std::string::npos);
  EXPECT_FALSE(store->timeSeries().lastN(Symbol::intern("closed/s"), 1));
}

TEST(StateTimeSeriesTest, AppendRefusesWhenTheWriterIsTooFarBehind) {
  TempDir dir;
  auto options = manualOptions(dir.path());
  options.max_pending = 10;
  auto store = openOrDie(options);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->timeSeries().append(scalar("full/s", i, i)));
  auto refused = store->timeSeries().append(scalar("full/s", 10, 10));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kOverload);
  ASSERT_TRUE(store->sync());
  EXPECT_TRUE(store->timeSeries().append(scalar("full/s", 10, 10)));
}

}  // namespace
}  // namespace sie::state
