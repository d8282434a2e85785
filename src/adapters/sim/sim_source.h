// SimSource: the plant simulator as a node source, paced against the wall clock, and its
// registration as source type "sim".
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "adapters/sim/simulator.h"
#include "sie/clock.h"
#include "sie/config.h"
#include "sie/metrics.h"
#include "sie/plugins.h"
#include "sie/source.h"

namespace sie::sim {

struct SimSourceOptions {
  SimOptions sim;
  double speed = 1.0;        // simulated seconds per wall-clock second
  bool start_at_now = true;  // simulated time starts at the wall clock (else sim.start_ns)
};

// One thread: about every 10 ms it advances the simulator to the paced target time and hands each
// reading to the sink. A refused reading (overload) is counted and offered again later, in order,
// before anything newer; the simulation waits meanwhile, then catches up.
class SimSource final : public Source {
 public:
  // `clock` outlives the source. `options.sim` must pass validateOptions().
  SimSource(std::string name, SimSourceOptions options, const Clock& clock = systemClock());
  ~SimSource() override;

  [[nodiscard]] const std::string& name() const override { return name_; }
  Status start(Ingest& sink) override;
  void stop() override;

 private:
  // Simulated time sim_->now() corresponds to monotonic time wall_start.
  void run(Ingest& sink, std::int64_t wall_start);
  void logFaultsStarted();

  std::string name_;
  SimSourceOptions options_;
  const Clock& clock_;
  Counter& readings_;
  Counter& refused_;
  std::unique_ptr<Simulator> sim_;  // used by the thread only, once started
  std::size_t faults_logged_ = 0;

  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};  // set under mu_, so the wait cannot miss it
  std::thread thread_;
};

// The "sim" source's config keys, and the options a block of them (checked) describes.
std::span<const ConfigKey> configKeys();
Result<SimSourceOptions> readSourceOptions(const ConfigValues& config);

// Adds source type "sim" to plugins.sources; fails if the name is taken.
Status registerPlugin(Plugins& plugins);

}  // namespace sie::sim
