#include "adapters/sim/sim_source.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <fmt/format.h>

#include "adapters/sim/signals.h"
#include "core/log.h"

namespace sie::sim {
namespace {

constexpr auto kPeriod = std::chrono::milliseconds(10);
// The most simulated time one round produces, so catching up after a stall stays in small steps.
constexpr std::int64_t kMaxStepNs = kNsPerSecond;

}  // namespace

SimSource::SimSource(std::string name, SimSourceOptions options, const Clock& clock)
    : name_(std::move(name)),
      options_(std::move(options)),
      clock_(clock),
      readings_(metrics().counter("sie_source_readings_total",
                                  "Readings a source handed to the gateway and it accepted",
                                  {{"source", name_}})),
      refused_(metrics().counter("sie_source_refused_total",
                                 "Readings the gateway refused (overload); the source retries them",
                                 {{"source", name_}})) {}

SimSource::~SimSource() { stop(); }

Status SimSource::start(Ingest& sink) {
  if (thread_.joinable() || sim_) {
    return fail(Errc::kInvalidArgument, fmt::format("source '{}' is already started", name_));
  }
  SimOptions sim_options = options_.sim;
  if (options_.start_at_now) sim_options.start_ns = clock_.nowNs();
  sim_ = std::make_unique<Simulator>(std::move(sim_options));
  Log("source", name_)
      .info("{} sensors, {} faults per asset per hour, speed {}x", sim_->sensors().size(),
            options_.sim.faults_per_asset_hour, options_.speed);
  const std::int64_t wall_start = clock_.monotonicNs();
  thread_ = std::thread([this, &sink, wall_start] { run(sink, wall_start); });
  return ok();
}

void SimSource::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SimSource::run(Ingest& sink, std::int64_t wall_start) {
  const std::int64_t sim_start = sim_->now();
  std::vector<Telemetry> pending;
  std::size_t next = 0;  // first reading of `pending` not yet accepted
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    bool behind = false;
    if (next == pending.size()) {
      pending.clear();
      next = 0;
      const auto elapsed = static_cast<double>(clock_.monotonicNs() - wall_start);
      const std::int64_t target = sim_start + static_cast<std::int64_t>(elapsed * options_.speed);
      const std::int64_t until = std::min(target, sim_->now() + kMaxStepNs);
      sim_->advance(until, pending);
      behind = until < target;
      logFaultsStarted();
    }
    while (next < pending.size() && !stopping_) {
      // Ingest takes the reading by value: a copy keeps ours for the retry if it is refused.
      if (!sink.ingest(pending[next], name_)) {
        refused_.inc();
        break;
      }
      readings_.inc();
      ++next;
    }
    lock.lock();
    if (behind && next == pending.size()) continue;  // catch up without waiting
    wake_.wait_for(lock, kPeriod, [this] { return stopping_.load(); });
  }
}

void SimSource::logFaultsStarted() {
  const auto& faults = sim_->faults();
  for (; faults_logged_ < faults.size() && faults[faults_logged_].start_ns <= sim_->now();
       ++faults_logged_) {
    const FaultInterval& f = faults[faults_logged_];
    Log("source", name_)
        .info("{} fault on {}/{} ({}) for {:.0f}s, magnitude {:.3g}", f.kind, f.domain, f.asset,
              fmt::join(f.sensors, ", "), static_cast<double>(f.end_ns - f.start_ns) / kNsPerSecond,
              f.magnitude);
  }
}

}  // namespace sie::sim
