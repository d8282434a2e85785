// In-memory stand-ins for the gateway's collaborators.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "gateway/downstream.h"
#include "sie/clock.h"
#include "sie/state.h"

namespace sie::gateway::testing {

inline constexpr std::int64_t kNow = 1'764'300'000'000'000'000;  // 2025-11-28T03:20:00Z

class FakeClock final : public Clock {
 public:
  [[nodiscard]] std::int64_t nowNs() const override { return now_ns; }
  [[nodiscard]] std::int64_t monotonicNs() const override { return mono_ns; }
  std::int64_t now_ns = kNow;
  std::int64_t mono_ns = 1'000;
};

class MemorySeries final : public TimeSeriesStore {
 public:
  Status append(const Telemetry& reading) override {
    std::lock_guard lock(mu);
    if (fail_next) {
      fail_next = false;
      return fail(Errc::kIo, "disk full");
    }
    readings.push_back(reading);
    return ok();
  }
  Result<std::vector<Sample>> range(Symbol, std::int64_t, std::int64_t, std::size_t) override {
    return fail(Errc::kUnsupported, "not in the fake");
  }
  // Only n = 1 up to the newest, which the gateway asks for.
  Result<std::vector<Sample>> lastUntil(Symbol sensor, std::int64_t, std::size_t n) override {
    std::lock_guard lock(mu);
    std::vector<Sample> out;
    for (auto it = readings.rbegin(); it != readings.rend() && out.size() < n; ++it) {
      if (it->sensor == sensor) out.push_back(Sample::of(*it));
    }
    return out;
  }
  std::vector<Telemetry> snapshot() {
    std::lock_guard lock(mu);
    return readings;
  }

  std::mutex mu;
  std::vector<Telemetry> readings;
  bool fail_next = false;
};

class MemoryDeadLetters final : public DeadLetterStore {
 public:
  Status put(DeadLetter letter) override {
    std::lock_guard lock(mu);
    if (broken) return fail(Errc::kIo, "dead-letter store offline");
    letter.id = static_cast<std::int64_t>(letters.size()) + 1;
    letters.push_back(std::move(letter));
    return ok();
  }
  Result<std::vector<DeadLetter>> list(std::size_t limit) override {
    std::lock_guard lock(mu);
    std::vector<DeadLetter> out(letters.rbegin(), letters.rend());
    if (out.size() > limit) out.resize(limit);
    return out;
  }
  Result<std::int64_t> count() override {
    std::lock_guard lock(mu);
    return static_cast<std::int64_t>(letters.size());
  }

  std::mutex mu;
  std::vector<DeadLetter> letters;
  bool broken = false;
};

class RecordingDownstream final : public Downstream {
 public:
  Status deliver(Event&& event, std::span<const std::uint32_t> targets) override {
    std::lock_guard lock(mu);
    if (refuse) return fail(Errc::kOverload, "queue full");
    events.push_back(std::move(event));
    target_lists.emplace_back(targets.begin(), targets.end());
    return ok();
  }

  std::mutex mu;
  std::vector<Event> events;
  std::vector<std::vector<std::uint32_t>> target_lists;
  bool refuse = false;
};

}  // namespace sie::gateway::testing
