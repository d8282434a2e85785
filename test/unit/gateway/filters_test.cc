#include <gtest/gtest.h>

#include "gateway/filter.h"
#include "sie/metrics.h"

namespace sie::gateway {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

// Feeds (ts, value) readings through one filter for one sensor; records what passed.
class FilterRun {
 public:
  explicit FilterRun(FilterSpec spec) : filter_(makeFilter(spec)), state_(filter_->newState()) {}

  // The passed reading, or nullopt when dropped.
  std::optional<Telemetry> feed(std::int64_t ts, double value) {
    Telemetry t;
    t.sensor = Symbol::intern("f/s");
    t.ts_ns = ts;
    t.values = {value};
    if (filter_->apply(*state_, t) == Filter::Verdict::kDrop) return std::nullopt;
    return t;
  }

  const Filter& filter() const { return *filter_; }

 private:
  std::unique_ptr<Filter> filter_;
  std::unique_ptr<FilterState> state_;
};

TEST(GatewayFiltersTest, Names) {
  EXPECT_EQ(filterTypeName(FilterSpec::Type::kRateLimit), "rateLimit");
  EXPECT_EQ(FilterRun(FilterSpec{.type = FilterSpec::Type::kDownsample, .interval_ns = 1})
                .filter()
                .name(),
            "downsample");
}

TEST(GatewayFiltersTest, DeadbandComparesWithTheLastPassedValue) {
  FilterRun run(FilterSpec{.type = FilterSpec::Type::kDeadband, .delta = 0.5});
  EXPECT_TRUE(run.feed(1, 10.0));
  EXPECT_FALSE(run.feed(2, 10.3));
  EXPECT_FALSE(run.feed(3, 10.49));  // drift is measured from 10.0, not from 10.3
  EXPECT_TRUE(run.feed(4, 10.5));
  EXPECT_FALSE(run.feed(5, 10.2));
  EXPECT_TRUE(run.feed(6, 9.9));
}

TEST(GatewayFiltersTest, EmaSmooths) {
  FilterRun run(FilterSpec{.type = FilterSpec::Type::kEma, .alpha = 0.25});
  EXPECT_DOUBLE_EQ(run.feed(1, 8.0)->value(), 8.0);
  EXPECT_DOUBLE_EQ(run.feed(2, 16.0)->value(), 10.0);  // 0.25*16 + 0.75*8
  EXPECT_DOUBLE_EQ(run.feed(3, 10.0)->value(), 10.0);
}

TEST(GatewayFiltersTest, RateLimitBySourceTime) {
  FilterRun run(FilterSpec{.type = FilterSpec::Type::kRateLimit, .interval_ns = kSecond});
  EXPECT_TRUE(run.feed(0, 1));
  EXPECT_FALSE(run.feed(kSecond / 2, 2));
  EXPECT_TRUE(run.feed(kSecond, 3));
  EXPECT_FALSE(run.feed(kSecond + kSecond - 1, 4));
  EXPECT_TRUE(run.feed(3 * kSecond, 5));
}

TEST(GatewayFiltersTest, MedianReplacesSpikesAndCountsThem) {
  Counter& replaced = metrics().counter("sie_gateway_replaced_total", "", {{"filter", "median"}});
  const std::uint64_t before = replaced.value();
  FilterRun run(FilterSpec{.type = FilterSpec::Type::kMedian, .window = 5, .k = 3});
  const double noise[] = {10.0, 10.2, 9.9, 10.1, 10.0, 10.05};
  std::int64_t ts = 0;
  for (double x : noise) EXPECT_DOUBLE_EQ(run.feed(++ts, x)->value(), x);
  auto spike = run.feed(++ts, 50.0);
  ASSERT_TRUE(spike);
  EXPECT_DOUBLE_EQ(spike->value(), 10.05);  // median of the window {9.9, 10.1, 10, 10.05, 50}
  EXPECT_EQ(spike->quality, Quality::kUncertain);
  EXPECT_EQ(spike->flag, "spike replaced by window median (raw 50)");
  EXPECT_EQ(replaced.value(), before + 1);
  EXPECT_DOUBLE_EQ(run.feed(++ts, 10.1)->value(), 10.1);
}

TEST(GatewayFiltersTest, MedianWaitsForAFullWindowAndFollowsSteps) {
  FilterRun run(FilterSpec{.type = FilterSpec::Type::kMedian, .window = 3, .k = 3});
  EXPECT_DOUBLE_EQ(run.feed(1, 1)->value(), 1);
  EXPECT_DOUBLE_EQ(run.feed(2, 100)->value(), 100);  // window not full yet
  // A lasting step passes once it holds the window's majority.
  run.feed(3, 1);
  run.feed(4, 1);
  EXPECT_DOUBLE_EQ(run.feed(5, 5)->value(), 1);
  EXPECT_DOUBLE_EQ(run.feed(6, 5)->value(), 5);
}

TEST(GatewayFiltersTest, DownsampleEmitsClosedIntervals) {
  FilterRun mean(FilterSpec{.type = FilterSpec::Type::kDownsample, .interval_ns = 10});
  EXPECT_FALSE(mean.feed(11, 1));
  EXPECT_FALSE(mean.feed(15, 2));
  EXPECT_FALSE(mean.feed(19, 6));
  auto first = mean.feed(23, 100);  // opens [20,30), closes [10,20)
  ASSERT_TRUE(first);
  EXPECT_EQ(first->ts_ns, 10);
  EXPECT_DOUBLE_EQ(first->value(), 3.0);
  auto second = mean.feed(55, 7);  // closes [20,30) holding only 100; [30,50) were empty
  ASSERT_TRUE(second);
  EXPECT_EQ(second->ts_ns, 20);
  EXPECT_DOUBLE_EQ(second->value(), 100);

  for (auto [aggregate, want] : {std::pair{FilterSpec::Aggregate::kMin, 1.0},
                                 {FilterSpec::Aggregate::kMax, 6.0},
                                 {FilterSpec::Aggregate::kLast, 2.0}}) {
    FilterRun run(FilterSpec{
        .type = FilterSpec::Type::kDownsample, .interval_ns = 10, .aggregate = aggregate});
    run.feed(-10, 1);  // intervals before 1970 floor correctly: [-10, 0)
    run.feed(-5, 6);
    run.feed(-1, 2);
    auto out = run.feed(0, 9);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->ts_ns, -10);
    EXPECT_DOUBLE_EQ(out->value(), want);
  }
}

TEST(GatewayFiltersTest, DownsampleKeepsTheWorstQuality) {
  auto filter = makeFilter(FilterSpec{.type = FilterSpec::Type::kDownsample, .interval_ns = 10});
  auto state = filter->newState();
  Telemetry t;
  t.values = {1};
  t.ts_ns = 1;
  filter->apply(*state, t);
  t.ts_ns = 2;
  t.quality = Quality::kUncertain;
  t.flag = "stale";
  filter->apply(*state, t);
  t.ts_ns = 12;
  t.quality = Quality::kGood;
  t.flag.clear();
  ASSERT_EQ(filter->apply(*state, t), Filter::Verdict::kPass);
  EXPECT_EQ(t.quality, Quality::kUncertain);
  EXPECT_EQ(t.flag, "stale");
  EXPECT_EQ(t.ts_ns, 0);
}

}  // namespace
}  // namespace sie::gateway
