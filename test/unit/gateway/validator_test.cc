#include "gateway/validator.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/rfc3339.h"
#include "fakes.h"

namespace sie::gateway {
namespace {

using testing::FakeClock;
using testing::kNow;

Telemetry at(std::int64_t ts, double value) {
  Telemetry t;
  t.sensor = Symbol::intern("v/s");
  t.ts_ns = ts;
  t.values = {value};
  return t;
}

constexpr std::int64_t kSecond = 1'000'000'000;

TEST(GatewayValidatorTest, NonFiniteIsAlwaysInvalid) {
  FakeClock clock;
  Validator open(ValidationSpec{}, clock);
  auto nan = open.check(at(kNow, std::numeric_limits<double>::quiet_NaN()));
  ASSERT_TRUE(nan);
  EXPECT_EQ(nan->code, RejectCode::kNan);
  EXPECT_EQ(nan->reason, "value is not finite (nan)");
  auto inf = open.check(at(kNow, -INFINITY));
  ASSERT_TRUE(inf);
  EXPECT_EQ(inf->reason, "value is not finite (-inf)");
  EXPECT_FALSE(open.check(at(kNow, 1e300)));
}

TEST(GatewayValidatorTest, Range) {
  FakeClock clock;
  Validator v(ValidationSpec{.min = 180, .max = 280}, clock);
  EXPECT_FALSE(v.check(at(kNow, 180)));
  EXPECT_FALSE(v.check(at(kNow, 280)));
  auto high = v.check(at(kNow, 280.5));
  ASSERT_TRUE(high);
  EXPECT_EQ(high->code, RejectCode::kRange);
  EXPECT_EQ(high->reason, "value 280.5 out of range [180, 280]");
  Telemetry block = at(kNow, 200);
  block.values = {200, 100, 300};
  block.sample_period_ns = 1;
  EXPECT_EQ(v.check(block)->reason, "values[1] 100 out of range [180, 280]");
}

TEST(GatewayValidatorTest, StaleAndFutureUseTheInjectedClock) {
  FakeClock clock;
  Validator v(ValidationSpec{.max_age_ns = 60 * kSecond, .max_future_ns = 5 * kSecond}, clock);
  EXPECT_FALSE(v.check(at(kNow - 60 * kSecond, 1)));
  EXPECT_FALSE(v.check(at(kNow + 5 * kSecond, 1)));
  auto stale = v.check(at(kNow - 75 * kSecond, 1));
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->code, RejectCode::kStale);
  EXPECT_EQ(stale->reason, "stale timestamp: 75s old (maxAge 60s)");
  auto future = v.check(at(kNow + 7 * kSecond + kSecond / 2, 1));
  ASSERT_TRUE(future);
  EXPECT_EQ(future->code, RejectCode::kFuture);
  EXPECT_EQ(future->reason, "timestamp 7.5s in the future (maxFuture 5s)");
  clock.now_ns += 100 * kSecond;  // time passes: the same reading turns stale
  EXPECT_EQ(v.check(at(kNow, 1))->code, RejectCode::kStale);
  // Extreme timestamps do not overflow.
  EXPECT_EQ(v.check(at(std::numeric_limits<std::int64_t>::min(), 1))->code, RejectCode::kStale);
  EXPECT_EQ(v.check(at(std::numeric_limits<std::int64_t>::max(), 1))->code, RejectCode::kFuture);
}

TEST(GatewayValidatorTest, BlocksAreJudgedByTheirNewestSample) {
  Telemetry block = at(100, 1);
  block.values = {1, 2, 3};
  block.sample_period_ns = 10;
  EXPECT_EQ(newestSampleNs(block), 120);
  block.sample_period_ns = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(newestSampleNs(block), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(newestSampleNs(at(5, 1)), 5);
}

TEST(GatewayValidatorTest, OrderChecks) {
  EXPECT_FALSE(checkOrder(at(10, 1), std::nullopt));
  EXPECT_FALSE(checkOrder(at(11, 1), 10));
  auto duplicate = checkOrder(at(10, 1), 10);
  ASSERT_TRUE(duplicate);
  EXPECT_EQ(duplicate->code, RejectCode::kDuplicate);
  EXPECT_EQ(duplicate->reason, "duplicate timestamp");
  auto late = checkOrder(at(9, 1), 10);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->code, RejectCode::kOutOfOrder);
  EXPECT_EQ(late->reason, "out-of-order timestamp (9 < last 10)");
}

TEST(GatewayValidatorTest, FlagLowersQuality) {
  Telemetry range = at(1, 1);
  flagReading(range, Finding{RejectCode::kRange, "value 1 out of range [2, 3]"});
  EXPECT_EQ(range.quality, Quality::kBad);
  EXPECT_EQ(range.flag, "value 1 out of range [2, 3]");
  Telemetry stale = at(1, 1);
  flagReading(stale, Finding{RejectCode::kStale, "stale"});
  EXPECT_EQ(stale.quality, Quality::kUncertain);
  Telemetry already_bad = at(1, 1);
  already_bad.quality = Quality::kBad;
  flagReading(already_bad, Finding{RejectCode::kFuture, "future"});
  EXPECT_EQ(already_bad.quality, Quality::kBad);
}

TEST(GatewayRfc3339Test, ParsesAndRejects) {
  // The one formatter: fixed width, UTC, and what it writes reads back exactly.
  for (const std::int64_t ns :
       {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1709208000123456789}}) {
    EXPECT_EQ(parseRfc3339(formatRfc3339(ns)), ns) << formatRfc3339(ns);
  }
  EXPECT_EQ(formatRfc3339(1709208000123456789), "2024-02-29T12:00:00.123456789Z");
  EXPECT_EQ(formatRfc3339(-1), "1969-12-31T23:59:59.999999999Z");
  // Fewer fraction digits truncate (the API writes microseconds), none writes whole seconds.
  EXPECT_EQ(formatRfc3339(1709208000123456789, 6), "2024-02-29T12:00:00.123456Z");
  EXPECT_EQ(formatRfc3339(1709208000123456789, 0), "2024-02-29T12:00:00Z");
  EXPECT_EQ(formatRfc3339Seconds(253402300799), "9999-12-31T23:59:59Z");  // past 2262
  EXPECT_EQ(parseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parseRfc3339("1969-12-31T23:59:59.999999999Z"), -1);
  EXPECT_EQ(parseRfc3339("2024-02-29t12:00:00.123456789123z"), 1709208000123456789);
  EXPECT_EQ(parseRfc3339("2025-11-28 03:20:00-00:30"), 1764300000000000000 + 1800 * kSecond);
  EXPECT_EQ(parseRfc3339("2016-12-31T23:59:60Z"), 1483228799999999999);
  for (const char* bad :
       {"", "2025-11-28", "2025-11-28T03:20:00", "2023-02-29T00:00:00Z", "2025-13-01T00:00:00Z",
        "2025-11-28T24:00:00Z", "2025-11-28T03:20:00.Z", "2025-11-28T03:20:00+0100",
        "2025-11-28T03:20:00Zjunk", "9999-12-31T23:59:59Z", "1000-01-01T00:00:00Z"}) {
    EXPECT_FALSE(parseRfc3339(bad)) << bad;
  }
}

}  // namespace
}  // namespace sie::gateway
