#include "adapters/sim/simulator.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "adapters/sim/domain.h"
#include "adapters/sim/faults.h"
#include "adapters/sim/signals.h"

namespace sie::sim {
namespace {

// How far ahead of the readings faults are drawn.
constexpr std::int64_t kLookaheadNs = 3600 * kNsPerSecond;
constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

const DomainType* findDomain(std::string_view name) {
  for (const DomainType& type : domainTypes()) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string>& knownDomains() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const DomainType& type : domainTypes()) out.emplace_back(type.name);
    return out;
  }();
  return names;
}

Status validateOptions(const SimOptions& options) {
  const std::string known = fmt::format("{}", fmt::join(knownDomains(), ", "));
  if (options.domains.empty()) {
    return fail(Errc::kInvalidArgument, "domains: name at least one of " + known);
  }
  for (std::size_t i = 0; i < options.domains.size(); ++i) {
    const std::string& name = options.domains[i];
    if (findDomain(name) == nullptr) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("domains: unknown domain '{}' (known: {})", name, known));
    }
    if (std::find(options.domains.begin(), options.domains.begin() + i, name) !=
        options.domains.begin() + i) {
      return fail(Errc::kInvalidArgument, fmt::format("domains: '{}' is listed twice", name));
    }
  }
  if (options.assets_per_domain < 0 || options.assets_per_domain > 1000) {
    return fail(Errc::kInvalidArgument, fmt::format("assets must be 0 (defaults) to 1000 (got {})",
                                                    options.assets_per_domain));
  }
  if (!(options.faults_per_asset_hour >= 0 && options.faults_per_asset_hour <= 3600)) {
    return fail(Errc::kInvalidArgument,
                fmt::format("fault rate must be 0 to 3600 per asset per hour (got {})",
                            options.faults_per_asset_hour));
  }
  if (options.start_ns < 0) {
    return fail(Errc::kInvalidArgument, "start time must not be before 1970");
  }
  if (options.vibration_rate_hz < 100 || options.vibration_rate_hz > 100'000) {
    return fail(
        Errc::kInvalidArgument,
        fmt::format("vibration rate must be 100 to 100000 Hz (got {})", options.vibration_rate_hz));
  }
  if (options.vibration_block < 1 || options.vibration_block > 65'536) {
    return fail(Errc::kInvalidArgument,
                fmt::format("vibration block must be 1 to 65536 samples (got {})",
                            options.vibration_block));
  }
  return ok();
}

struct Simulator::Impl final : TickSink {
  struct SensorTrack {
    Symbol symbol;
    std::vector<std::size_t> faults;  // indices into faults, by start
    double last = 0.0;                // last reported value
    bool has_last = false;
    std::size_t held_fault = kNone;  // the stuck fault `held` belongs to
    double held = 0.0;
  };

  SimOptions options;
  std::int64_t now_ns;
  std::vector<std::unique_ptr<Domain>> domains;
  std::vector<std::size_t> first_asset;   // per domain: simulator-wide index of its asset 0
  std::vector<std::size_t> first_sensor;  // per simulator-wide asset: index of its sensor 0
  std::vector<SensorInfo> sensors;
  std::vector<SensorTrack> tracks;                     // per sensor
  std::vector<std::vector<std::size_t>> asset_faults;  // per asset: indices into faults
  std::unordered_map<Symbol, std::size_t> by_symbol;
  std::vector<FaultInterval> faults;
  std::vector<FaultKind> kinds;  // parallel to faults
  std::unique_ptr<FaultScheduler> scheduler;
  std::size_t ticking = 0;  // the domain inside tick()
  std::vector<Telemetry>* out = nullptr;

  explicit Impl(SimOptions opts) : options(std::move(opts)) {
    assert(validateOptions(options));
    if (options.start_ns == 0) options.start_ns = kDefaultStartNs;
    now_ns = options.start_ns;
    std::vector<FaultScheduler::Target> targets;
    for (const std::string& name : options.domains) {
      const DomainType* type = findDomain(name);
      if (type == nullptr) continue;
      DomainSetup setup{
          options.seed,
          options.assets_per_domain > 0 ? options.assets_per_domain : type->default_assets,
          options.start_ns, options.vibration_rate_hz, options.vibration_block};
      domains.push_back(type->make(setup));
      first_asset.push_back(first_sensor.size());
      for (const Asset& asset : domains.back()->assets()) {
        targets.push_back({name, &asset, sensors.size()});
        first_sensor.push_back(sensors.size());
        for (const SensorInfo& info : asset.sensors) {
          const Symbol symbol = Symbol::intern(info.id);
          by_symbol.emplace(symbol, sensors.size());
          tracks.push_back(SensorTrack{symbol, {}});
          sensors.push_back(info);
        }
      }
    }
    asset_faults.resize(first_sensor.size());
    scheduler = std::make_unique<FaultScheduler>(options.seed, options.faults_per_asset_hour,
                                                 options.start_ns, std::move(targets));
    planUntil(now_ns + kLookaheadNs);
  }

  void planUntil(std::int64_t horizon_ns) {
    std::vector<PlannedFault> planned;
    scheduler->planUntil(horizon_ns, planned);
    for (PlannedFault& p : planned) {
      const std::size_t index = faults.size();
      asset_faults[p.asset].push_back(index);
      for (const std::size_t s : p.sensors) tracks[s].faults.push_back(index);
      faults.push_back(std::move(p.interval));
      kinds.push_back(p.kind);
    }
  }

  // The fault in `list` (sorted by start, not overlapping) active at ts, or kNone.
  std::size_t activeIn(const std::vector<std::size_t>& list, std::int64_t ts) const {
    auto it = std::upper_bound(list.begin(), list.end(), ts, [&](std::int64_t t, std::size_t f) {
      return t < faults[f].start_ns;
    });
    if (it == list.begin()) return kNone;
    const std::size_t f = *(it - 1);
    return ts < faults[f].end_ns ? f : kNone;
  }

  [[nodiscard]] const FaultInterval* processFault(std::size_t asset,
                                                  std::int64_t ts) const override {
    const std::size_t f = activeIn(asset_faults[first_asset[ticking] + asset], ts);
    return f == kNone || isSensorFault(kinds[f]) ? nullptr : &faults[f];
  }

  void emit(std::size_t asset, std::size_t sensor, std::int64_t ts, double value) override {
    const std::size_t index = first_sensor[first_asset[ticking] + asset] + sensor;
    SensorTrack& track = tracks[index];
    const std::size_t f = activeIn(track.faults, ts);
    if (f != kNone && isSensorFault(kinds[f])) {
      if (track.held_fault != f) {
        track.held_fault = f;
        track.held = track.has_last ? track.last : value;
      }
      value = applySensorFault(kinds[f], faults[f], sensors[index].rate_hz, ts, value, track.held);
    }
    track.last = value;
    track.has_last = true;
    Telemetry reading;
    reading.sensor = track.symbol;
    reading.ts_ns = ts;
    reading.values.push_back(value);
    out->push_back(std::move(reading));
  }

  void emitBlock(std::size_t asset, std::size_t sensor, std::int64_t ts, std::int64_t period_ns,
                 std::vector<double> values) override {
    Telemetry reading;
    reading.sensor = tracks[first_sensor[first_asset[ticking] + asset] + sensor].symbol;
    reading.ts_ns = ts;
    reading.values = std::move(values);
    reading.sample_period_ns = period_ns;
    out->push_back(std::move(reading));
  }

  void advance(std::int64_t until_ns, std::vector<Telemetry>& sink) {
    if (until_ns <= now_ns) return;
    planUntil(until_ns + kLookaheadNs);
    out = &sink;
    while (true) {
      std::size_t next = kNone;
      for (std::size_t d = 0; d < domains.size(); ++d) {
        if (next == kNone || domains[d]->nextTick() < domains[next]->nextTick()) next = d;
      }
      if (next == kNone || domains[next]->nextTick() > until_ns) break;
      ticking = next;
      domains[next]->tick(*this);
    }
    out = nullptr;
    now_ns = until_ns;
  }
};

Simulator::Simulator(SimOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Simulator::~Simulator() = default;

void Simulator::advance(std::int64_t until_ns, std::vector<Telemetry>& out) {
  impl_->advance(until_ns, out);
}
std::int64_t Simulator::now() const { return impl_->now_ns; }
const SimOptions& Simulator::options() const { return impl_->options; }
const std::vector<FaultInterval>& Simulator::faults() const { return impl_->faults; }
const std::vector<SensorInfo>& Simulator::sensors() const { return impl_->sensors; }

const FaultInterval* Simulator::faultAt(std::string_view sensor, std::int64_t ts_ns) const {
  const Symbol symbol = Symbol::find(sensor);
  auto it = symbol.empty() ? impl_->by_symbol.end() : impl_->by_symbol.find(symbol);
  if (it == impl_->by_symbol.end()) return nullptr;
  const std::size_t f = impl_->activeIn(impl_->tracks[it->second].faults, ts_ns);
  return f == kNone ? nullptr : &impl_->faults[f];
}

}  // namespace sie::sim
