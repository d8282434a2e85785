#include "state/redis/time_series.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <span>

#include <fmt/format.h>

namespace sie::state::redis {
namespace {

std::string encodeValues(std::span<const double> values) {
  std::string out;
  for (double v : values) {
    if (!out.empty()) out += ',';
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
  return out;
}

Result<std::vector<double>> decodeValues(std::string_view text) {
  std::vector<double> values;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    double v = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || end != part.data() + part.size()) {
      return fail(Errc::kCorrupt, fmt::format("stream entry has a bad value '{}'", part));
    }
    values.push_back(v);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return values;
}

// XRANGE/XREVRANGE reply: [[id, [field, value, ...]], ...].
Result<std::vector<Sample>> decodeEntries(const Reply& reply, std::string_view key) {
  if (reply.isError()) return fail(Errc::kIo, reply.str, std::string(key));
  std::vector<Sample> out;
  out.reserve(reply.elements.size());
  for (const Reply& entry : reply.elements) {
    if (entry.elements.size() != 2) return fail(Errc::kCorrupt, "malformed stream entry");
    auto ts = parseStreamId(entry.elements[0].str);
    if (!ts) {
      return fail(Errc::kCorrupt,
                  fmt::format("stream entry id '{}' is not one of sie's", entry.elements[0].str),
                  std::string(key));
    }
    Sample sample;
    sample.ts_ns = *ts;
    const auto& fields = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str == "v") {
        const std::vector<double> values = SIE_TRY(decodeValues(fields[i + 1].str));
        sample.values.assign(values.begin(), values.end());
      } else if (fields[i].str == "q") {
        const int q = std::atoi(fields[i + 1].str.c_str());
        sample.quality = static_cast<Quality>(std::clamp(q, 0, 2));
      } else if (fields[i].str == "f") {
        sample.flag = Sample::flagOf(fields[i + 1].str);
      }
    }
    out.push_back(std::move(sample));
  }
  return out;
}

}  // namespace

RedisTimeSeries::RedisTimeSeries(const Keys& keys, Outbox& outbox, Reader& reader,
                                 std::size_t memory_window, std::size_t max_readings,
                                 std::chrono::milliseconds catch_up)
    : keys_(keys),
      outbox_(outbox),
      reader_(reader),
      memory_window_(std::max<std::size_t>(1, memory_window)),
      max_readings_(std::to_string(max_readings)),
      catch_up_(catch_up) {}

RedisTimeSeries::Series& RedisTimeSeries::series(Symbol sensor) {
  {
    std::shared_lock lock(index_mu_);
    if (auto it = series_.find(sensor.id()); it != series_.end()) return *it->second;
  }
  std::unique_lock lock(index_mu_);
  auto& slot = series_[sensor.id()];
  if (!slot) slot = std::make_unique<Series>();
  return *slot;
}

Status RedisTimeSeries::append(const Telemetry& reading) {
  if (reading.ts_ns < 0) {
    return fail(Errc::kInvalidArgument, fmt::format("reading of {} has a negative timestamp ({})",
                                                    reading.sensor.str(), reading.ts_ns));
  }
  Sample sample = Sample::of(reading);
  Series& s = series(reading.sensor);
  std::lock_guard lock(s.mu);  // held across push so the ring and the stream keep one order
  std::vector<std::string> command{"XADD",        keys_.series(reading.sensor.str()),
                                   "MAXLEN",      "~",
                                   max_readings_, streamId(reading.ts_ns),
                                   "v",           encodeValues(sample.view()),
                                   "q",           std::to_string(static_cast<int>(sample.quality))};
  if (sample.flag) {  // why the quality is not good, only when there is a reason
    command.emplace_back("f");
    command.push_back(*sample.flag);
  }
  SIE_TRY(outbox_.push(std::move(command), /*refusable=*/true));
  s.ring.push_back(std::move(sample));
  if (s.ring.size() > memory_window_) {
    s.ring.pop_front();
    s.complete = false;
  }
  return ok();
}

std::vector<Sample> RedisTimeSeries::merge(Series& s, std::vector<Sample> stored,
                                           bool all_of_them) {
  const std::int64_t newest =
      stored.empty() ? std::numeric_limits<std::int64_t>::min() : stored.back().ts_ns;
  for (const Sample& mine : s.ring) {
    if (mine.ts_ns > newest) stored.push_back(mine);
  }
  const std::size_t keep = std::min(stored.size(), memory_window_);
  s.ring.assign(stored.end() - static_cast<std::ptrdiff_t>(keep), stored.end());
  s.complete = all_of_them && keep == stored.size();
  return stored;
}

Result<std::vector<Sample>> RedisTimeSeries::lastUntil(Symbol sensor, std::int64_t until_ns,
                                                       std::size_t n) {
  if (n == 0 || until_ns < 0) return std::vector<Sample>{};
  const bool newest = until_ns == std::numeric_limits<std::int64_t>::max();
  Series& s = series(sensor);
  {
    std::lock_guard lock(s.mu);
    // The ring is the newest stretch of the stream: the readings up to until_ns in it are the
    // newest ones there are when there are n of them, or when the ring holds everything.
    const auto end =
        std::upper_bound(s.ring.begin(), s.ring.end(), until_ns,
                         [](std::int64_t ts, const Sample& x) { return ts < x.ts_ns; });
    const auto held = static_cast<std::size_t>(end - s.ring.begin());
    if (held >= n || s.complete) {
      const std::size_t take = std::min(n, held);
      return std::vector<Sample>(end - static_cast<std::ptrdiff_t>(take), end);
    }
  }
  // Readings evicted from memory may still be on their way: let them land first.
  SIE_TRY(outbox_.barrier(catch_up_));
  const std::string key = keys_.series(sensor.str());
  const std::size_t count = newest ? std::max(n, memory_window_) : n;
  auto reply = SIE_TRY(reader_.run(
      {"XREVRANGE", key, newest ? "+" : streamId(until_ns), "-", "COUNT", std::to_string(count)}));
  auto stored = SIE_TRY(decodeEntries(reply, key));
  std::reverse(stored.begin(), stored.end());
  if (!newest) return stored;  // the ring is seeded by queries for the newest readings only
  std::lock_guard lock(s.mu);
  auto all = merge(s, std::move(stored), reply.elements.size() < count);
  if (all.size() > n) all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(n));
  return all;
}

Result<std::vector<Sample>> RedisTimeSeries::range(Symbol sensor, std::int64_t from_ns,
                                                   std::int64_t to_ns, std::size_t limit) {
  from_ns = std::max<std::int64_t>(from_ns, 0);
  if (to_ns <= from_ns || limit == 0) return std::vector<Sample>{};
  Series& s = series(sensor);
  const auto inRange = [&](const std::deque<Sample>& ring) {
    std::vector<Sample> out;
    for (const Sample& x : ring) {
      if (x.ts_ns >= from_ns && x.ts_ns < to_ns && out.size() < limit) out.push_back(x);
    }
    return out;
  };
  {
    std::lock_guard lock(s.mu);
    if (s.complete || (!s.ring.empty() && s.ring.front().ts_ns <= from_ns)) return inRange(s.ring);
  }
  SIE_TRY(outbox_.barrier(catch_up_));
  const std::string key = keys_.series(sensor.str());
  auto reply = SIE_TRY(reader_.run(
      {"XRANGE", key, streamId(from_ns), streamId(to_ns - 1), "COUNT", std::to_string(limit)}));
  auto stored = SIE_TRY(decodeEntries(reply, key));
  if (stored.size() >= limit) return stored;
  std::lock_guard lock(s.mu);
  const std::int64_t newest = stored.empty() ? from_ns - 1 : stored.back().ts_ns;
  for (const Sample& mine : s.ring) {
    if (mine.ts_ns > newest && mine.ts_ns < to_ns && stored.size() < limit) stored.push_back(mine);
  }
  return stored;
}

}  // namespace sie::state::redis
