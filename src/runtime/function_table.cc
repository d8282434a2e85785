#include "runtime/function_table.h"

#include <thread>

#include <fmt/format.h>

#include "core/log.h"
#include "core/topic_pattern.h"
#include "exec/process/process_binding.h"
#include "gateway/telemetry_json.h"

namespace sie::node {

FunctionTable::FunctionTable(Dispatcher& dispatcher, gateway::Router& router, StateStore& state,
                             Actions& actions, Bus& bus,
                             const Registry<std::shared_ptr<Executor>>& runtimes,
                             const Clock& clock)
    : dispatcher_(dispatcher),
      router_(router),
      state_(state),
      actions_(actions),
      bus_(bus),
      runtimes_(runtimes),
      clock_(clock) {}

FunctionTable::~FunctionTable() { stop(); }

Result<FunctionTable::Slot*> FunctionTable::slotFor(const std::string& name,
                                                    const FunctionSpec& spec) {
  std::unique_lock lock(mu_);
  auto it = slots_.find(name);
  if (it == slots_.end()) {
    auto slot = std::make_unique<Slot>();
    slot->name = name;
    Slot* raw = slot.get();
    lock.unlock();  // workers may call handle() on other slots meanwhile
    raw->target = SIE_TRY(dispatcher_.addTarget(
        name,
        [this, raw](std::span<const Event* const> events, int failures) {
          return handle(*raw, events, failures);
        },
        spec.batch));
    lock.lock();
    it = slots_.emplace(name, std::move(slot)).first;
  }
  return it->second.get();
}

namespace {

// Builtin handlers take microseconds and never block or sleep (no retries, no escalation's wait):
// the thread that delivers their events may run them itself (Dispatcher::setInline).
bool runsInline(const FunctionRunner* runner) {
  if (runner == nullptr) return true;
  const FunctionSpec& spec = runner->spec();
  return spec.runtime == "builtin" && spec.retries == 0 && !spec.escalate;
}

}  // namespace

void FunctionTable::applyDispatch(const Slot& slot) {
  if (slot.runner) dispatcher_.setBatch(slot.target, slot.runner->spec().batch);
  dispatcher_.setInline(slot.target, slot.runner && runsInline(slot.runner.get()) &&
                                         runsInline(slot.candidate.get()));
}

Result<std::shared_ptr<FunctionRunner>> FunctionTable::build(Slot& slot, FunctionSpec spec,
                                                             bool check_escalation) {
  auto runtime = runtimes_.find(spec.runtime);
  if (!runtime) return fail(Errc::kInvalidArgument, runtime.error().message, spec.source_file);
  for (const auto& topic : spec.triggers) SIE_TRY(TopicPattern::parse(topic));
  if (check_escalation && spec.escalate && !find(spec.escalate->to)) {
    return fail(Errc::kNotFound,
                fmt::format("spec.escalate.to: no function named '{}' on this node; deploy it "
                            "first",
                            spec.escalate->to),
                spec.source_file);
  }
  if (process::ProcessBinding* binding = process::processBinding(spec); binding && binding->dapr) {
    if (!slot.dapr) slot.dapr = SIE_TRY(DaprApi::start(spec.name, state_.kv(), bus_, clock_));
    binding->env["DAPR_HTTP_PORT"] = std::to_string(slot.dapr->port());
    binding->loopback_ports.push_back(slot.dapr->port());
  }
  SIE_CHECK((**runtime)->validate(spec));
  auto runner =
      std::make_shared<FunctionRunner>(std::move(spec), **runtime, state_, actions_, clock_);
  if (const auto& escalate = runner->spec().escalate) {
    runner->escalateTo(EscalationTarget{
        escalate->to,
        [this, to = escalate->to](const Event& event) { return evaluate(to, event); }});
  }
  bool warm = false;
  {
    std::lock_guard lock(mu_);
    warm = started_;
  }
  if (warm) SIE_CHECK(runner->warm());  // what serves keeps serving until this succeeds
  return runner;
}

Result<DeployOutcome> FunctionTable::deploy(FunctionSpec spec, bool check_escalation) {
  std::lock_guard serial(deploy_mu_);
  Slot* slot = SIE_TRY(slotFor(spec.name, spec));
  auto runner = SIE_TRY(build(*slot, std::move(spec), check_escalation));
  std::shared_ptr<FunctionRunner> old;
  std::shared_ptr<FunctionRunner> candidate;
  std::shared_ptr<Shadow> shadow;
  DeployOutcome outcome{runner->spec().id(), ""};
  {
    std::lock_guard lock(mu_);
    old = std::exchange(slot->runner, runner);
    // A plain deploy ends a rollout: the new version serves alone.
    candidate = std::exchange(slot->candidate, nullptr);
    shadow = std::exchange(slot->shadow, nullptr);
    slot->triggers = runner->spec().triggers;
    if (old) outcome.previous = old->spec().id();
    applyDispatch(*slot);
    SIE_CHECK(route());
  }
  shadow.reset();  // joins its thread, outside the lock
  if (old) retire(std::move(old));
  if (candidate) retire(std::move(candidate));
  return outcome;
}

Result<DeployOutcome> FunctionTable::deployCandidate(FunctionSpec spec,
                                                     const RolloutPolicy& policy) {
  std::lock_guard serial(deploy_mu_);
  SIE_CHECK(validate(policy));
  if (!find(spec.name)) {
    return fail(
        Errc::kNotFound,
        fmt::format("nothing serves '{}' yet: deploy it without a rollout first", spec.name));
  }
  Slot* slot = SIE_TRY(slotFor(spec.name, spec));
  auto runner = SIE_TRY(build(*slot, std::move(spec), true));
  auto shadow = policy.strategy == RolloutPolicy::Strategy::kShadow
                    ? std::make_shared<Shadow>(runner)
                    : nullptr;
  std::shared_ptr<FunctionRunner> old;
  std::shared_ptr<Shadow> old_shadow;
  DeployOutcome outcome{runner->spec().id(), ""};
  {
    std::lock_guard lock(mu_);
    outcome.previous = slot->runner ? slot->runner->spec().id() : "";
    old = std::exchange(slot->candidate, runner);
    old_shadow = std::exchange(slot->shadow, shadow);
    slot->policy = policy;
    applyDispatch(*slot);
  }
  old_shadow.reset();
  if (old) retire(std::move(old));
  return outcome;
}

Status FunctionTable::setRollout(const std::string& name, const RolloutPolicy& policy) {
  std::lock_guard serial(deploy_mu_);
  SIE_CHECK(validate(policy));
  std::shared_ptr<Shadow> old_shadow;
  std::unique_lock lock(mu_);
  auto it = slots_.find(name);
  if (it == slots_.end() || !it->second->candidate) {
    return fail(Errc::kNotFound, fmt::format("'{}' has no rollout running", name));
  }
  Slot& slot = *it->second;
  const bool shadowing = policy.strategy == RolloutPolicy::Strategy::kShadow;
  if (shadowing && !slot.shadow) {
    auto candidate = slot.candidate;
    lock.unlock();
    auto shadow = std::make_shared<Shadow>(candidate);
    lock.lock();
    // The scaler may have rolled the candidate back meanwhile (it does not take deploy_mu_).
    if (slot.candidate != candidate) {
      lock.unlock();
      return fail(Errc::kNotFound, fmt::format("the rollout of '{}' ended meanwhile", name));
    }
    slot.shadow = std::move(shadow);
  } else if (!shadowing) {
    old_shadow = std::exchange(slot.shadow, nullptr);
  }
  slot.policy = policy;
  lock.unlock();
  return ok();
}

Result<std::string> FunctionTable::promote(const std::string& name) {
  std::lock_guard serial(deploy_mu_);
  std::shared_ptr<FunctionRunner> old;
  std::shared_ptr<Shadow> shadow;
  std::string version;
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(name);
    if (it == slots_.end() || !it->second->candidate) {
      return fail(Errc::kNotFound, fmt::format("'{}' has no rollout to promote", name));
    }
    Slot& slot = *it->second;
    old = std::exchange(slot.runner, std::exchange(slot.candidate, nullptr));
    shadow = std::exchange(slot.shadow, nullptr);
    slot.triggers = slot.runner->spec().triggers;
    version = slot.runner->spec().version;
    applyDispatch(slot);
    SIE_CHECK(route());
  }
  shadow.reset();
  retire(std::move(old));
  return version;
}

Result<std::string> FunctionTable::abortRollout(const std::string& name) {
  std::lock_guard serial(deploy_mu_);
  std::shared_ptr<FunctionRunner> candidate;
  std::shared_ptr<Shadow> shadow;
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(name);
    if (it == slots_.end() || !it->second->candidate) {
      return fail(Errc::kNotFound, fmt::format("'{}' has no rollout running", name));
    }
    candidate = std::exchange(it->second->candidate, nullptr);
    shadow = std::exchange(it->second->shadow, nullptr);
    applyDispatch(*it->second);
  }
  shadow.reset();
  const std::string version = candidate->spec().version;
  retire(std::move(candidate));
  return version;
}

std::optional<RolloutStatus> FunctionTable::rollout(const std::string& name) const {
  std::shared_ptr<FunctionRunner> serving;
  std::shared_ptr<FunctionRunner> candidate;
  std::shared_ptr<Shadow> shadow;
  RolloutPolicy policy;
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(name);
    if (it == slots_.end() || !it->second->candidate || !it->second->runner) return std::nullopt;
    serving = it->second->runner;
    candidate = it->second->candidate;
    shadow = it->second->shadow;
    policy = it->second->policy;
  }
  RolloutStatus status;
  status.serving = serving->spec().id();
  status.candidate = candidate->spec().id();
  status.policy = policy;
  status.serving_stats = serving->stats().snapshot();
  status.candidate_stats = shadow ? shadow->candidateStats() : candidate->stats().snapshot();
  if (shadow) status.shadow = shadow->report();
  return status;
}

std::string FunctionTable::breach(const Slot& slot) {
  if (!slot.candidate || slot.policy.strategy == RolloutPolicy::Strategy::kBlueGreen) return "";
  const auto s = slot.shadow ? slot.shadow->candidateStats() : slot.candidate->stats().snapshot();
  if (s.invocations < slot.policy.min_invocations) return "";
  if (s.errorRate() > slot.policy.max_error_rate) {
    return fmt::format("{} of {} invocations failed ({:.1f} % > {:.1f} %)", s.errors, s.invocations,
                       100 * s.errorRate(), 100 * slot.policy.max_error_rate);
  }
  if (slot.policy.max_p99_ms > 0 && s.p99_ms > slot.policy.max_p99_ms) {
    return fmt::format("p99 latency {:.3f} ms > {:.3f} ms over {} invocations", s.p99_ms,
                       slot.policy.max_p99_ms, s.invocations);
  }
  return "";
}

Status FunctionTable::remove(const std::string& name, std::chrono::milliseconds drain) {
  std::lock_guard serial(deploy_mu_);
  Slot* slot = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(name);
    if (it == slots_.end() || !it->second->runner) {
      return fail(Errc::kNotFound, fmt::format("no function named '{}' on this node", name));
    }
    slot = it->second.get();
    slot->triggers.clear();
    SIE_CHECK(route());
  }
  // Queued events are still the function's: they run before it goes.
  const auto until = std::chrono::steady_clock::now() + drain;
  while (dispatcher_.depth(slot->target) > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::shared_ptr<FunctionRunner> old;
  std::shared_ptr<FunctionRunner> candidate;
  std::shared_ptr<Shadow> shadow;
  {
    std::lock_guard lock(mu_);
    old = std::exchange(slot->runner, nullptr);
    candidate = std::exchange(slot->candidate, nullptr);
    shadow = std::exchange(slot->shadow, nullptr);
  }
  shadow.reset();
  retire(std::move(old));
  retire(std::move(candidate));
  return ok();
}

Status FunctionTable::scale(const std::string& name, const ScalingPolicy& scaling) {
  auto runner = find(name);
  if (!runner)
    return fail(Errc::kNotFound, fmt::format("no function named '{}' on this node", name));
  runner->pool().setScaling(scaling);
  return ok();
}

Status FunctionTable::checkEscalations() const {
  for (const auto& runner : runners()) {
    const auto& escalate = runner->spec().escalate;
    if (escalate && !find(escalate->to)) {
      return fail(Errc::kNotFound,
                  fmt::format("spec.escalate.to: no function named '{}' in the site", escalate->to),
                  runner->spec().source_file);
    }
  }
  return ok();
}

std::vector<std::string> FunctionTable::escalatingTo(const std::string& name) const {
  std::vector<std::string> from;
  std::lock_guard lock(mu_);
  for (const auto& [other, slot] : slots_) {
    if (other == name) continue;
    for (const auto* runner : {slot->runner.get(), slot->candidate.get()}) {
      if (runner && runner->spec().escalate && runner->spec().escalate->to == name) {
        from.push_back(runner->spec().name + "@" + runner->spec().version);
      }
    }
  }
  return from;
}

Status FunctionTable::route() {
  std::vector<gateway::Trigger> triggers;
  for (const auto& [name, slot] : slots_) {
    for (const auto& topic : slot->triggers) {
      triggers.push_back(gateway::Trigger{SIE_TRY(TopicPattern::parse(topic)), slot->target});
    }
  }
  router_.setTriggers(std::move(triggers));
  return ok();
}

Handled FunctionTable::handle(Slot& slot, std::span<const Event* const> events, int failures) {
  std::shared_ptr<FunctionRunner> runner;
  std::shared_ptr<FunctionRunner> candidate;
  std::shared_ptr<Shadow> shadow;
  RolloutPolicy policy;
  {
    std::lock_guard lock(mu_);
    runner = slot.runner;
    candidate = slot.candidate;
    shadow = slot.shadow;
    policy = slot.policy;
  }
  if (runner && shadow) {
    std::vector<std::optional<Decision>> decisions(events.size());
    const Handled handled = runner->handleBatch(events, failures, &decisions);
    shadow->mirror(events.first(handled.done),
                   std::span<const std::optional<Decision>>(decisions).first(handled.done));
    return handled;
  }
  if (runner && candidate && policy.strategy == RolloutPolicy::Strategy::kCanary &&
      policy.weight > 0) {
    // In the lane's order: the serving version takes contiguous runs of events between the
    // candidate's, so a retry in a run ends the turn before anything behind it ran.
    std::vector<const Event*> serving;  // events[first, first + size)
    std::size_t first = 0;
    auto serve = [&] {
      const Handled handled = runner->handleBatch(serving, first == 0 ? failures : 0);
      const Handled mapped{first + handled.done, handled.retry_after};
      if (handled.done == serving.size()) serving.clear();
      return mapped;
    };
    for (std::size_t i = 0; i < events.size(); ++i) {
      const Event* event = events[i];
      // A sensor's events all go one way, in order; a failed canary call falls back at once,
      // and only the serving version retries it.
      const bool canary = candidate && event->telemetry && (i > 0 || failures == 0) &&
                          stickyBucket(event->telemetry->sensor.str()) < policy.weight;
      if (canary && !serving.empty()) {
        if (const Handled handled = serve(); handled.done < i) return handled;
      }
      if (canary && candidate->tryHandle(*event)) continue;
      if (serving.empty()) first = i;
      serving.push_back(event);
      if (canary) {
        // After a failure, the candidate may have been rolled back since the batch began.
        std::lock_guard lock(mu_);
        if (slot.candidate != candidate) candidate.reset();
      }
    }
    return serving.empty() ? Handled::all(events.size()) : serve();
  }
  if (runner) return runner->handleBatch(events, failures);
  // Deleted while these waited longer than the drain allowed: keep them for a replay.
  for (const Event* event : events) {
    DeadLetter letter;
    letter.ts_ns = clock_.nowNs();
    letter.origin = "function:" + slot.name;
    letter.reason = fmt::format("function '{}' was deleted before this event ran", slot.name);
    letter.subject = event->subject;
    letter.payload = event->data.empty() && event->telemetry
                         ? gateway::renderTelemetryJson(*event->telemetry)
                         : event->data;
    if (auto stored = state_.deadLetters().put(std::move(letter)); !stored) {
      Log("fn", slot.name).error("could not store dead letter: {}", stored.error().str());
    }
  }
  return Handled::all(events.size());
}

void FunctionTable::retire(std::shared_ptr<FunctionRunner> runner) {
  if (!runner) return;
  runner->pool().drain();  // idle workers exit now; leased ones when they come back
  std::lock_guard lock(mu_);
  retired_.push_back(std::move(runner));
}

Status FunctionTable::start() {
  for (const auto& runner : runners()) SIE_CHECK(runner->warm());
  std::lock_guard lock(mu_);
  started_ = true;
  return ok();
}

void FunctionTable::tick() {
  std::vector<std::pair<std::shared_ptr<FunctionRunner>, std::uint32_t>> serving;
  std::vector<std::shared_ptr<FunctionRunner>> done;
  struct RolledBack {
    std::string name, version, reason;
    std::shared_ptr<FunctionRunner> candidate;
    std::shared_ptr<Shadow> shadow;
  };
  std::vector<RolledBack> rolled_back;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, slot] : slots_) {
      if (slot->runner) serving.emplace_back(slot->runner, slot->target);
      if (slot->candidate) {
        // The candidate's pool scales on its own share; queue depth is the serving version's.
        serving.emplace_back(slot->candidate, slot->target);
        if (std::string why = breach(*slot); !why.empty()) {
          rolled_back.push_back({name, slot->candidate->spec().version, std::move(why),
                                 std::exchange(slot->candidate, nullptr),
                                 std::exchange(slot->shadow, nullptr)});
          applyDispatch(*slot);
          serving.pop_back();
        }
      }
    }
    // Only the table holds these: no event runs on them any more.
    std::erase_if(retired_, [&](std::shared_ptr<FunctionRunner>& r) {
      if (r.use_count() != 1) return false;
      done.push_back(std::move(r));
      return true;
    });
  }
  for (auto& [runner, target] : serving) runner->pool().tick(dispatcher_.depth(target));
  for (auto& r : rolled_back) {
    r.shadow.reset();
    Log("fn", r.name + "@" + r.version).warn("rolled back: {}", r.reason);
    retire(std::move(r.candidate));
    if (on_rollback_) on_rollback_(r.name, r.version, r.reason);
  }
  for (auto& runner : done) runner->stopEscalating();
  done.clear();  // outside the lock: stopping workers takes a moment
}

void FunctionTable::stop() {
  std::vector<std::shared_ptr<FunctionRunner>> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, slot] : slots_) {
      if (slot->runner) all.push_back(slot->runner);
      if (slot->candidate) all.push_back(slot->candidate);
    }
    all.insert(all.end(), retired_.begin(), retired_.end());
  }
  std::vector<std::shared_ptr<Shadow>> shadows;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, slot] : slots_) {
      if (slot->shadow) shadows.push_back(std::exchange(slot->shadow, nullptr));
    }
  }
  shadows.clear();  // their threads evaluate on candidates: they end first
  // Escalations still running call into other runners: they end before any runner does.
  for (auto& runner : all) runner->stopEscalating();
  for (auto& runner : all) runner->pool().drain();  // worker processes exit now
  std::lock_guard lock(mu_);
  for (auto& [name, slot] : slots_) slot->dapr.reset();
}

std::vector<std::shared_ptr<FunctionRunner>> FunctionTable::runners() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<FunctionRunner>> out;
  for (const auto& [name, slot] : slots_) {
    if (slot->runner) out.push_back(slot->runner);
  }
  return out;
}

std::shared_ptr<FunctionRunner> FunctionTable::find(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = slots_.find(name);
  return it == slots_.end() ? nullptr : it->second->runner;
}

Result<std::optional<Decision>> FunctionTable::evaluate(const std::string& name,
                                                        const Event& event) const {
  auto runner = find(name);
  if (!runner) return fail(Errc::kNotFound, fmt::format("no function named '{}'", name));
  return runner->evaluate(event);
}

}  // namespace sie::node
