#include "runtime/instance_pool.h"

#include <fmt/format.h>

namespace sie::node {
namespace {

// Most instances tick() starts at once ahead of queued work: a burst is met within a few ticks
// without a start storm on a small machine.
constexpr int kMaxStartsPerTick = 4;
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::seconds kMaxBackoff{30};

}  // namespace

InstancePool::InstancePool(std::shared_ptr<Executor> runtime, const FunctionSpec& spec,
                           const Clock& clock)
    : runtime_(std::move(runtime)),
      spec_(spec),
      log_("fn", spec.id()),
      clock_(clock),
      scaling_(spec.scaling),
      keep_alive_(spec.scaling.idle_timeout),
      cold_starts_(metrics().counter("sie_cold_starts_total",
                                     "Invocations that waited for an instance to start.",
                                     {{"function", spec.id()}})),
      starts_(metrics().counter("sie_instance_starts_total",
                                "Function instances started (cold, warm-up, scale-up, pre-warm).",
                                {{"function", spec.id()}})),
      start_seconds_(metrics().histogram("sie_instance_start_seconds",
                                         "Time to start a function instance.",
                                         {{"function", spec.id()}})),
      instances_(
          metrics().gauge("sie_instances", "Live function instances.", {{"function", spec.id()}})),
      replaced_(metrics().counter("sie_instances_failed_total",
                                  "Instances dropped because they died or were killed (timeouts).",
                                  {{"function", spec.id()}})),
      idle_ms_(metrics().counter(
          "sie_instance_idle_milliseconds_total",
          "Instance-time spent loaded but idle (counted when the idle span ends).",
          {{"function", spec.id()}})),
      prewarms_(metrics().counter("sie_prewarms_total",
                                  "Instances started ahead of predicted demand.",
                                  {{"function", spec.id()}})),
      backoffs_(metrics().counter("sie_crash_loop_backoffs_total",
                                  "Start back-offs after failed starts or dying workers.",
                                  {{"function", spec.id()}})) {}

void InstancePool::backOff(std::int64_t now_ns, const std::string& why) {
  if (++failures_ == 1) return;  // one failure is replaced at once; repeats back off
  const auto delay = std::min<std::chrono::nanoseconds>(
      kFirstBackoff * (1LL << std::min(failures_ - 2, 20)), kMaxBackoff);
  no_start_until_ns_ = now_ns + delay.count();
  backoffs_.inc();
  log_.warn("{} ({} in a row): no new instance for {} ms", why, failures_,
            std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
}

InstancePool::~InstancePool() { runtime_->retire(spec_); }

Result<std::unique_ptr<FunctionInstance>> InstancePool::start() {
  const std::int64_t begin = monotonicNs();
  auto instance = runtime_->instantiate(spec_);
  const double seconds = static_cast<double>(monotonicNs() - begin) * 1e-9;
  if (instance) {
    starts_.inc();
    start_seconds_.observe(seconds);
    log_.info("instance started in {:.3f} ms", seconds * 1e3);
  } else {
    log_.warn("instance did not start: {}", instance.error().str());
  }
  return instance;
}

bool InstancePool::startIdle() {
  {
    std::lock_guard lock(mu_);
    if (live_ >= scaling_.max || clock_.monotonicNs() < no_start_until_ns_) return false;
    ++live_;
  }
  auto instance = start();
  std::lock_guard lock(mu_);
  if (!instance) {
    --live_;
    backOff(clock_.monotonicNs(), "instance did not start");
    return false;
  }
  idle_.push_back({std::move(*instance), clock_.monotonicNs()});
  instances_.set(live_);
  returned_.notify_one();
  return true;
}

void InstancePool::countIdle(const Idle& idle, std::int64_t now_ns) {
  idle_ms_.inc(
      static_cast<std::uint64_t>(std::max<std::int64_t>(now_ns - idle.since_ns, 0) / 1'000'000));
}

Status InstancePool::warm() {
  const int min = scaling().min;
  for (int i = 0; i < min; ++i) {
    {
      std::lock_guard lock(mu_);
      ++live_;
    }
    auto instance = start();
    std::lock_guard lock(mu_);
    if (!instance) {
      --live_;
      return tl::unexpected(instance.error());
    }
    idle_.push_back({std::move(*instance), clock_.monotonicNs()});
  }
  instances_.set(live());
  return ok();
}

Result<InstancePool::Lease> InstancePool::acquire() {
  std::unique_lock lock(mu_);
  const std::int64_t now = clock_.monotonicNs();
  if (leased_ == 0 && idle_since_ns_ != 0) {
    keep_alive_.record(std::chrono::nanoseconds(now - idle_since_ns_));
  }
  ++leased_;
  idle_since_ns_ = 0;
  // Wait for an idle instance, or for a free slot to start one. While starts back off (crash
  // loop) a caller waits only if some instance may come back; with none it fails at once.
  for (;;) {
    const std::int64_t t = clock_.monotonicNs();
    if (!idle_.empty()) {
      auto instance = std::move(idle_.back().instance);  // the most recently used: warm caches
      const bool served = idle_.back().served;
      countIdle(idle_.back(), t);
      idle_.pop_back();
      return Lease(this, std::move(instance), served);
    }
    const bool backing_off = t < no_start_until_ns_;
    if (!backing_off && live_ < scaling_.max) break;
    if (backing_off && live_ == 0) {
      if (--leased_ == 0) idle_since_ns_ = t;
      return fail(Errc::kOverload,
                  fmt::format("{} is crash-looping ({} failed starts or deaths in a row); next "
                              "start in {} ms",
                              spec_.id(), failures_, (no_start_until_ns_ - t) / 1'000'000));
    }
    if (backing_off) {
      returned_.wait_for(lock, std::chrono::nanoseconds(no_start_until_ns_ - t));
    } else {
      returned_.wait(lock);
    }
  }
  ++live_;  // reserve the slot, then start outside the lock
  lock.unlock();
  cold_starts_.inc();
  auto instance = start();
  lock.lock();
  if (!instance) {
    --live_;
    backOff(clock_.monotonicNs(), "instance did not start");
    if (--leased_ == 0) idle_since_ns_ = clock_.monotonicNs();
    returned_.notify_one();
    return tl::unexpected(instance.error());
  }
  instances_.set(live_);
  return Lease(this, std::move(*instance), false);
}

void InstancePool::release(std::unique_ptr<FunctionInstance> instance, bool served) {
  const bool healthy = instance->healthy();
  if (!healthy) {
    instance.reset();  // outside the lock: stopping a worker process takes a moment
    replaced_.inc();
  }
  {
    std::lock_guard lock(mu_);
    const std::int64_t now = clock_.monotonicNs();
    if (healthy) {
      idle_.push_back({std::move(instance), now, true});
      failures_ = 0;
    } else {
      --live_;
      instances_.set(live_);
      // A worker that served before and then died (killed, a leak) is replaced; one that dies on
      // its first invocation is a crash loop in the making.
      if (!served) backOff(now, "a new worker died before completing an invocation");
    }
    if (--leased_ == 0) idle_since_ns_ = now;
  }
  returned_.notify_one();
}

void InstancePool::tick(std::size_t queued) {
  const std::int64_t now_ns = clock_.monotonicNs();
  std::vector<std::unique_ptr<FunctionInstance>> stopping;
  int to_start = 0;
  bool prewarm = false;
  {
    std::lock_guard lock(mu_);
    const ScalingPolicy& scaling = scaling_;
    // Up: enough instances for what is in flight and queued.
    const auto demand = static_cast<int>(
        (static_cast<std::size_t>(leased_) + queued + scaling.target_concurrency - 1) /
        static_cast<std::size_t>(scaling.target_concurrency));
    const int wanted = std::min(scaling.max, std::max(scaling.min, demand));
    to_start = std::min(kMaxStartsPerTick, wanted - live_);

    // Down: at once above a lowered max; otherwise instances idle past their keep-alive, never
    // below min.
    while (live_ > scaling.max && !idle_.empty()) {
      countIdle(idle_.front(), now_ns);
      stopping.push_back(std::move(idle_.front().instance));
      idle_.erase(idle_.begin());
      --live_;
    }
    const bool learned = scaling.prewarm && keep_alive_.windows().learned;
    if (learned && leased_ == 0 && idle_since_ns_ != 0) {
      const bool loaded = keep_alive_.wantLoaded(
          std::chrono::nanoseconds(std::max<std::int64_t>(now_ns - idle_since_ns_, 0)));
      const int keep = std::max(scaling.min, loaded ? 1 : 0);
      while (live_ > keep && !idle_.empty()) {
        countIdle(idle_.front(), now_ns);
        stopping.push_back(std::move(idle_.front().instance));
        idle_.erase(idle_.begin());
        --live_;
      }
      if (live_ < keep) {
        to_start = std::max(to_start, keep - live_);
        prewarm = true;
      }
    } else {
      const auto timeout = std::chrono::nanoseconds(scaling.idle_timeout).count();
      while (live_ > scaling.min && !idle_.empty() && now_ns - idle_.front().since_ns >= timeout) {
        countIdle(idle_.front(), now_ns);
        stopping.push_back(std::move(idle_.front().instance));
        idle_.erase(idle_.begin());
        --live_;
      }
    }
    if (!stopping.empty()) instances_.set(live_);
  }
  if (!stopping.empty()) {
    log_.debug("stopping {} idle instance(s)", stopping.size());
  }
  stopping.clear();  // outside the lock
  for (int i = 0; i < to_start; ++i) {
    if (!startIdle()) break;
    if (prewarm) prewarms_.inc();
  }
}

void InstancePool::drain() {
  std::vector<Idle> stopping;
  {
    std::lock_guard lock(mu_);
    for (const Idle& i : idle_) countIdle(i, clock_.monotonicNs());
    stopping.swap(idle_);
    live_ -= static_cast<int>(stopping.size());
    instances_.set(live_);
  }
}

void InstancePool::setScaling(ScalingPolicy scaling) {
  {
    std::lock_guard lock(mu_);
    scaling_ = scaling;
  }
  returned_.notify_all();  // callers waiting for a slot may have one now
}

ScalingPolicy InstancePool::scaling() const {
  std::lock_guard lock(mu_);
  return scaling_;
}

int InstancePool::live() const {
  std::lock_guard lock(mu_);
  return live_;
}

int InstancePool::idle() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(idle_.size());
}

KeepAlivePolicy::Windows InstancePool::keepAlive() const {
  std::lock_guard lock(mu_);
  return keep_alive_.windows();
}

}  // namespace sie::node
