#include "adapters/sim/sim_source.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "core/config_table.h"
#include "sim_test_util.h"

namespace sie::sim {
namespace {

using testing::kSecond;
using namespace std::chrono_literals;

class FakeClock final : public Clock {
 public:
  [[nodiscard]] std::int64_t nowNs() const override { return 1'800'000'000LL * kSecond; }
  [[nodiscard]] std::int64_t monotonicNs() const override { return mono_.load(); }
  void set(std::int64_t ns) { mono_.store(ns); }

 private:
  std::atomic<std::int64_t> mono_{0};
};

// Records what it accepts; refuses every `refuse_every`-th call as if overloaded.
class RecordingIngest final : public Ingest {
 public:
  explicit RecordingIngest(int refuse_every = 0) : refuse_every_(refuse_every) {}

  Status ingestRaw(const RawMessage&) override { return fail(Errc::kUnsupported, "raw"); }
  Status sync() override { return ok(); }  // memory is all there is
  Result<std::optional<std::string>> bookmark(std::string_view) override {
    return std::optional<std::string>();
  }
  Status setBookmark(std::string_view, std::string_view) override { return ok(); }
  Status reject(const RawMessage&, std::string_view) override { return ok(); }

  Status ingest(Telemetry reading, std::string_view source) override {
    std::lock_guard lock(mu_);
    EXPECT_EQ(source, "plant");
    if (refuse_every_ > 0 && ++calls_ % refuse_every_ == 0) {
      return fail(Errc::kOverload, "queue full");
    }
    accepted_.push_back(std::move(reading));
    changed_.notify_all();
    return ok();
  }

  // Waits until at least n readings were accepted (false after the deadline).
  bool waitFor(std::size_t n, std::chrono::milliseconds deadline = 10s) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, deadline, [&] { return accepted_.size() >= n; });
  }

  std::vector<Telemetry> accepted() {
    std::lock_guard lock(mu_);
    return accepted_;
  }

 private:
  int refuse_every_;
  int calls_ = 0;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Telemetry> accepted_;
};

SimSourceOptions smallPlant(double speed = 1) {
  SimSourceOptions options;
  options.sim.domains = {"grid", "water", "rotating"};
  options.sim.faults_per_asset_hour = 60;
  options.speed = speed;
  return options;
}

TEST(SimSource, DeliversPacedReadingsInOrderAndRetriesRefusedOnes) {
  FakeClock clock;
  const SimSourceOptions options = smallPlant(10);
  SimSource source("plant", options, clock);
  RecordingIngest ingest(/*refuse_every=*/7);
  ASSERT_TRUE(source.start(ingest));

  // 0.3 s of wall time at 10x is 3 simulated seconds, starting at the wall clock.
  SimOptions reference_options = options.sim;
  reference_options.start_ns = clock.nowNs();
  Simulator reference(reference_options);
  std::vector<Telemetry> expected;
  reference.advance(reference.now() + 3 * kSecond, expected);
  clock.set(300'000'000);
  ASSERT_TRUE(ingest.waitFor(expected.size()));
  source.stop();

  const auto got = ingest.accepted();
  ASSERT_EQ(got.size(), expected.size());  // nothing lost, nothing beyond the paced time
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].sensor, expected[i].sensor) << i;
    ASSERT_EQ(got[i].ts_ns, expected[i].ts_ns) << i;
    ASSERT_EQ(got[i].values, expected[i].values) << i;
  }
  const Labels labels = {{"source", "plant"}};
  EXPECT_GE(metrics().counter("sie_source_refused_total", "", labels).value(), got.size() / 7);
  EXPECT_GE(metrics().counter("sie_source_readings_total", "", labels).value(), got.size());
}

TEST(SimSource, StopsPromptly) {
  SimSource source("plant", smallPlant(1));
  RecordingIngest ingest;
  ASSERT_TRUE(source.start(ingest));
  ASSERT_TRUE(ingest.waitFor(1));
  const auto before = std::chrono::steady_clock::now();
  source.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 200ms);
  const std::size_t n = ingest.accepted().size();
  std::this_thread::sleep_for(50ms);  // checking that nothing arrives after stop()
  EXPECT_EQ(ingest.accepted().size(), n);
  EXPECT_FALSE(source.start(ingest));  // a source runs once
}

TEST(SimPlugin, RegistersOnceWithItsConfigTable) {
  Plugins plugins;
  ASSERT_TRUE(registerPlugin(plugins));
  auto again = registerPlugin(plugins);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kAlreadyExists);
  auto plugin = plugins.sources.find("sim");
  ASSERT_TRUE(plugin);
  EXPECT_EQ((*plugin)->keys.size(), configKeys().size());
}

Result<std::unique_ptr<Source>> make(const std::string& yaml) {
  Plugins plugins;
  EXPECT_TRUE(registerPlugin(plugins));
  const SourcePlugin& plugin = **plugins.sources.find("sim");
  constexpr std::string_view kIgnored[] = {"name", "type"};
  const ConfigValues config =
      SIE_TRY(readConfig(YAML::Load(yaml), plugin.keys, "site.yaml", kIgnored));
  return plugin.make("plant", config);
}

TEST(SimPlugin, MakesASourceFromValidConfig) {
  auto source = make(
      "{name: plant, type: sim, seed: 3, domains: [grid, hvac], speed: 5, "
      "faultRate: 0.5, startAtNow: false}");
  ASSERT_TRUE(source) << source.error().str();
  EXPECT_EQ((*source)->name(), "plant");
  EXPECT_TRUE(make("{name: plant, type: sim}"));  // every key has a default
}

TEST(SimPlugin, RejectsBadConfig) {
  auto unknown = make("{name: plant, type: sim, sped: 5}");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().str().find("unknown key 'sped'"), std::string::npos);
  EXPECT_NE(unknown.error().str().find("site.yaml:1"), std::string::npos);

  EXPECT_FALSE(make("{name: plant, type: sim, speed: fast}"));
  EXPECT_FALSE(make("{name: plant, type: sim, domains: grid}"));  // not a list

  auto domain = make("{name: plant, type: sim, domains: [grid, moon]}");
  ASSERT_FALSE(domain);
  EXPECT_NE(domain.error().message.find("'moon'"), std::string::npos);

  auto speed = make("{name: plant, type: sim, speed: 0}");
  ASSERT_FALSE(speed);
  EXPECT_NE(speed.error().message.find("speed"), std::string::npos);
  EXPECT_FALSE(make("{name: plant, type: sim, seed: -1}"));
  EXPECT_FALSE(make("{name: plant, type: sim, vibrationBlock: 0}"));
  EXPECT_FALSE(make("{name: plant, type: sim, assets: 99999999999}"));
}

}  // namespace
}  // namespace sie::sim
