// The state contracts (include/sie/state.h), one suite run against every backend: embedded
// SQLite and Redis (a real redis-server on a free loopback port). A backend passes when it
// behaves the same as the others from a caller's point of view.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "servers.h"
#include "sie/state.h"
#include "state/embedded_store.h"
#include "state/redis/store.h"

namespace sie::testing {
namespace {

using namespace std::chrono_literals;

// One backend under test: opens (and reopens) a store over the same data.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<std::unique_ptr<StateStore>> open(const std::string& data_dir) = 0;
};

class EmbeddedBackend final : public Backend {
 public:
  Result<std::unique_ptr<StateStore>> open(const std::string& data_dir) override {
    state::EmbeddedOptions options;
    options.data_dir = data_dir;
    options.memory_window = 8;  // small, so windows also come from disk
    return state::openEmbedded(options);
  }
};

class RedisBackend final : public Backend {
 public:
  explicit RedisBackend(int port) : port_(port) {}
  Result<std::unique_ptr<StateStore>> open(const std::string& data_dir) override {
    state::redis::RedisOptions options;
    options.endpoint.port = port_;
    // One prefix per data directory: each test sees only its own keys.
    options.prefix = "contract:" + data_dir;
    options.data_dir = data_dir;
    options.memory_window = 8;
    return state::redis::openRedis(options);
  }

 private:
  int port_;
};

class StateContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { redis_ = new RedisServer(); }
  static void TearDownTestSuite() {
    delete redis_;
    redis_ = nullptr;
  }

  void SetUp() override {
    if (GetParam() == "redis") {
      backend_ = std::make_unique<RedisBackend>(redis_->port());
    } else {
      backend_ = std::make_unique<EmbeddedBackend>();
    }
    reopen();
  }

  void reopen() {
    if (store_) {
      ASSERT_TRUE(store_->close());
    }
    store_.reset();
    auto opened = backend_->open(dir_.path());
    ASSERT_TRUE(opened) << opened.error().str();
    store_ = std::move(*opened);
  }

  static Telemetry reading(std::string_view sensor, std::int64_t ts_ns, double value,
                           Quality quality = Quality::kGood) {
    Telemetry t;
    t.sensor = Symbol::intern(sensor);
    t.ts_ns = ts_ns;
    t.values = {value};
    t.quality = quality;
    return t;
  }

  static std::vector<double> firstValues(const std::vector<Sample>& samples) {
    std::vector<double> out;
    for (const auto& s : samples) out.push_back(s.values.at(0));
    return out;
  }

  static RedisServer* redis_;
  TempDir dir_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<StateStore> store_;
};

RedisServer* StateContractTest::redis_ = nullptr;

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;

TEST_P(StateContractTest, LastNReturnsTheNewestReadingsOldestFirst) {
  auto& ts = store_->timeSeries();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(ts.append(reading("pump/1/temp", kT0 + i * 1000, i)));
  auto last = ts.lastN(Symbol::intern("pump/1/temp"), 5);
  ASSERT_TRUE(last) << last.error().str();
  EXPECT_EQ(firstValues(*last), (std::vector<double>{15, 16, 17, 18, 19}));
  EXPECT_EQ(last->back().ts_ns, kT0 + 19'000);

  auto all = ts.lastN(Symbol::intern("pump/1/temp"), 100);  // more than the memory window
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 20U);
  EXPECT_EQ(all->front().values[0], 0);

  auto none = ts.lastN(Symbol::intern("pump/never-seen"), 3);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

// A window as of a moment: the newest readings at or before it, from memory (the newest 8) or
// from the store (older), and across the commit of the writes in between.
TEST_P(StateContractTest, LastUntilEndsAtTheMomentWhateverCameAfter) {
  auto& ts = store_->timeSeries();
  const Symbol s = Symbol::intern("pump/2/flow");
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(ts.append(reading(s.str(), kT0 + i * 1000, i)));
  const auto until = [&](std::int64_t ts_ns, std::size_t n) {
    auto got = ts.lastUntil(s, ts_ns, n);
    EXPECT_TRUE(got) << got.error().str();
    return got ? firstValues(*got) : std::vector<double>{};
  };
  const auto check = [&] {
    EXPECT_EQ(until(kT0 + 38'000, 3), (std::vector<double>{36, 37, 38}));   // in memory
    EXPECT_EQ(until(kT0 + 37'999, 3), (std::vector<double>{35, 36, 37}));   // between readings
    EXPECT_EQ(until(kT0 + 10'000, 4), (std::vector<double>{7, 8, 9, 10}));  // older than memory
    EXPECT_EQ(until(kT0 + 35'000, 12).size(), 12U);                         // both
    EXPECT_EQ(until(kT0 + 35'000, 12).front(), 24);
    EXPECT_EQ(until(kT0 + 1'000, 5), (std::vector<double>{0, 1}));  // fewer exist
    EXPECT_TRUE(until(kT0 - 1, 5).empty());
  };
  check();
  ASSERT_TRUE(store_->sync());
  check();
}

TEST_P(StateContractTest, RangeIsHalfOpenAndLimited) {
  auto& ts = store_->timeSeries();
  const Symbol s = Symbol::intern("grid/f1/voltage");
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(ts.append(reading(s.str(), kT0 + i * 1000, 200 + i)));
  auto mid = ts.range(s, kT0 + 5000, kT0 + 10'000, 100);
  ASSERT_TRUE(mid) << mid.error().str();
  EXPECT_EQ(firstValues(*mid), (std::vector<double>{205, 206, 207, 208, 209}));
  auto limited = ts.range(s, kT0, kT0 + 30'000, 3);
  ASSERT_TRUE(limited);
  EXPECT_EQ(firstValues(*limited), (std::vector<double>{200, 201, 202}));
  auto empty = ts.range(s, kT0 + 10'000, kT0 + 10'000, 10);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_P(StateContractTest, BlocksQualityAndExactTimestampsRoundTrip) {
  Telemetry block;
  block.sensor = Symbol::intern("rotating/p1/vibration");
  block.ts_ns = kT0 + 123'456'789;  // nanoseconds within a millisecond survive
  block.values = {0.125, -3.5e-7, 1e300, 42};
  block.sample_period_ns = 1'000'000;
  block.quality = Quality::kUncertain;
  ASSERT_TRUE(store_->timeSeries().append(block));
  ASSERT_TRUE(store_->sync());
  reopen();  // read back from the backend, not from memory
  auto got = store_->timeSeries().lastN(block.sensor, 1);
  ASSERT_TRUE(got) << got.error().str();
  ASSERT_EQ(got->size(), 1U);
  EXPECT_EQ(got->at(0).ts_ns, block.ts_ns);
  EXPECT_THAT(got->at(0).values, ::testing::ElementsAreArray(block.values));
  EXPECT_EQ(got->at(0).quality, Quality::kUncertain);
}

// Why a reading is not good (stale, out of range, device down) is kept with it, in memory and in
// the backend; good readings carry no reason.
TEST_P(StateContractTest, TheReasonAReadingIsNotGoodIsKeptWithIt) {
  auto& ts = store_->timeSeries();
  const Symbol s = Symbol::intern("rotating/p2/temp");
  ASSERT_TRUE(ts.append(reading(s.str(), kT0, 60)));
  Telemetry stale = reading(s.str(), kT0 + 1000, 60, Quality::kBad);
  stale.flag = "stale: the edge node died";
  ASSERT_TRUE(ts.append(stale));
  const auto check = [&](std::string_view where) {
    auto got = store_->timeSeries().lastN(s, 2);
    ASSERT_TRUE(got) << got.error().str();
    ASSERT_EQ(got->size(), 2U) << where;
    EXPECT_EQ(got->at(0).flag, nullptr) << where;
    ASSERT_NE(got->at(1).flag, nullptr) << where;
    EXPECT_EQ(*got->at(1).flag, "stale: the edge node died") << where;
    EXPECT_EQ(got->at(1).quality, Quality::kBad) << where;
    auto ranged = store_->timeSeries().range(s, kT0 + 1000, kT0 + 1001, 5);
    ASSERT_TRUE(ranged);
    ASSERT_EQ(ranged->size(), 1U) << where;
    ASSERT_NE(ranged->at(0).flag, nullptr) << where;
  };
  check("in memory");
  ASSERT_TRUE(store_->sync());
  reopen();
  check("from the backend");
}

TEST_P(StateContractTest, ReadingsSurviveReopenAndNewOnesFollowThem) {
  auto& before = store_->timeSeries();
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(before.append(reading("water/d1/flow", kT0 + i, i)));
  ASSERT_TRUE(store_->sync());
  reopen();
  auto& after = store_->timeSeries();
  ASSERT_TRUE(after.append(reading("water/d1/flow", kT0 + 100, 100)));
  auto last = after.lastN(Symbol::intern("water/d1/flow"), 4);
  ASSERT_TRUE(last) << last.error().str();
  EXPECT_EQ(firstValues(*last), (std::vector<double>{9, 10, 11, 100}));
  auto old = after.range(Symbol::intern("water/d1/flow"), kT0, kT0 + 3, 10);
  ASSERT_TRUE(old);
  EXPECT_EQ(firstValues(*old), (std::vector<double>{0, 1, 2}));
}

TEST_P(StateContractTest, KvPutGetOverwriteErase) {
  auto& kv = store_->kv();
  auto absent = kv.get("setpoint/zone1");
  ASSERT_TRUE(absent) << absent.error().str();
  EXPECT_FALSE(absent->has_value());
  ASSERT_TRUE(kv.put("setpoint/zone1", "21.5"));
  EXPECT_EQ(kv.get("setpoint/zone1")->value_or("-"), "21.5");
  ASSERT_TRUE(kv.put("setpoint/zone1", "22"));
  EXPECT_EQ(kv.get("setpoint/zone1")->value_or("-"), "22");
  const std::string binary("a\0b\xff", 4);
  ASSERT_TRUE(kv.put("blob", binary));
  ASSERT_TRUE(kv.erase("setpoint/zone1"));
  EXPECT_FALSE(kv.get("setpoint/zone1")->has_value());
  ASSERT_TRUE(store_->sync());
  reopen();
  EXPECT_FALSE(store_->kv().get("setpoint/zone1")->has_value());
  EXPECT_EQ(store_->kv().get("blob")->value_or("-"), binary);
}

TEST_P(StateContractTest, KvTtlExpires) {
  auto& kv = store_->kv();
  ASSERT_TRUE(kv.put("lease", "node-a", 150ms));
  ASSERT_TRUE(kv.put("forever", "x"));
  EXPECT_EQ(kv.get("lease")->value_or("-"), "node-a");
  ASSERT_TRUE(store_->sync());
  EXPECT_TRUE(waitUntil([&] { return !kv.get("lease")->has_value(); }, 5s));
  EXPECT_EQ(kv.get("forever")->value_or("-"), "x");
  EXPECT_FALSE(kv.put("bad", "ttl", -1ms));
}

TEST_P(StateContractTest, CompareAndSetWritesOnlyOverTheExpectedValue) {
  auto& kv = store_->kv();
  auto first = kv.compareAndSet("owner", std::nullopt, "a");
  ASSERT_TRUE(first) << first.error().str();
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*kv.compareAndSet("owner", std::nullopt, "b"));  // not absent any more
  EXPECT_FALSE(*kv.compareAndSet("owner", "z", "b"));           // wrong expectation
  EXPECT_TRUE(*kv.compareAndSet("owner", "a", "b"));
  EXPECT_EQ(kv.get("owner")->value_or("-"), "b");
  // A put just before the compare is seen by it.
  ASSERT_TRUE(kv.put("owner", "c"));
  EXPECT_TRUE(*kv.compareAndSet("owner", "c", "d", 150ms));
  EXPECT_EQ(kv.get("owner")->value_or("-"), "d");
  EXPECT_TRUE(waitUntil([&] { return !kv.get("owner")->has_value(); }, 5s));
}

TEST_P(StateContractTest, CompareAndSetHasOneWinnerAmongRacers) {
  std::atomic<int> winners{0};
  std::vector<std::thread> racers;
  for (int i = 0; i < 8; ++i) {
    racers.emplace_back([&, i] {
      auto won = store_->kv().compareAndSet("leader", std::nullopt, std::to_string(i));
      if (won && *won) ++winners;
    });
  }
  for (auto& t : racers) t.join();
  EXPECT_EQ(winners.load(), 1);
}

TEST_P(StateContractTest, DeadLettersAreCountedAndListedNewestFirst) {
  auto& letters = store_->deadLetters();
  const std::string payload("{\"v\":\x01\xfe}", 8);  // binary, not UTF-8
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(letters.put(DeadLetter{0, kT0 + i, "gateway", "reason " + std::to_string(i),
                                       "sensor/" + std::to_string(i), payload}));
  }
  auto count = letters.count();
  ASSERT_TRUE(count) << count.error().str();
  EXPECT_EQ(*count, 5);
  ASSERT_TRUE(store_->sync());
  reopen();
  auto listed = store_->deadLetters().list(3);
  ASSERT_TRUE(listed) << listed.error().str();
  ASSERT_EQ(listed->size(), 3U);
  EXPECT_EQ(listed->at(0).reason, "reason 4");
  EXPECT_EQ(listed->at(2).reason, "reason 2");
  EXPECT_EQ(listed->at(0).origin, "gateway");
  EXPECT_EQ(listed->at(0).subject, "sensor/4");
  EXPECT_EQ(listed->at(0).payload, payload);
  EXPECT_EQ(listed->at(0).ts_ns, kT0 + 4);
  EXPECT_GT(listed->at(0).id, listed->at(1).id);
  EXPECT_EQ(*store_->deadLetters().count(), 5);
}

TEST_P(StateContractTest, ConcurrentWritersLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      const std::string sensor = "dc/rack" + std::to_string(t) + "/inlet";
      for (int i = 0; i < kEach; ++i) {
        ASSERT_TRUE(store_->timeSeries().append(reading(sensor, kT0 + i, i)));
        if (i % 50 == 0) {
          ASSERT_TRUE(store_->kv().put(sensor, std::to_string(i)));
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_TRUE(store_->sync());
  reopen();
  for (int t = 0; t < kThreads; ++t) {
    const std::string sensor = "dc/rack" + std::to_string(t) + "/inlet";
    auto all = store_->timeSeries().range(Symbol::intern(sensor), kT0, kT0 + kEach, 10'000);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), static_cast<std::size_t>(kEach)) << sensor;
    EXPECT_EQ(store_->kv().get(sensor)->value_or("-"), "450");
  }
}

TEST_P(StateContractTest, AuditChainVerifies) {
  ASSERT_TRUE(store_->audit().append("lifecycle", "node", R"({"event":"started"})"));
  ASSERT_TRUE(store_->audit().append("action", "pump-1", R"({"stop":true})"));
  auto report = store_->audit().verify();
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->records, 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, StateContractTest, ::testing::Values("embedded", "redis"),
                         [](const auto& param) { return param.param; });

}  // namespace
}  // namespace sie::testing
