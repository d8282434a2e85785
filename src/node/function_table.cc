#include "node/function_table.h"

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/topic_pattern.h"
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
        name, [this, raw](std::span<const Event* const> events) { handle(*raw, events); },
        spec.batch));
    lock.lock();
    it = slots_.emplace(name, std::move(slot)).first;
  }
  return it->second.get();
}

Result<DeployOutcome> FunctionTable::deploy(FunctionSpec spec, bool check_escalation) {
  std::lock_guard serial(deploy_mu_);
  auto runtime = runtimes_.find(spec.runtime);
  if (!runtime) return fail(Errc::kInvalidArgument, runtime.error().message, spec.source_file);
  std::vector<TopicPattern> patterns;
  for (const auto& topic : spec.triggers) patterns.push_back(SIE_TRY(TopicPattern::parse(topic)));
  if (check_escalation && spec.escalate && !find(spec.escalate->to)) {
    return fail(Errc::kNotFound,
                fmt::format("spec.escalate.to: no function named '{}' on this node; deploy it "
                            "first",
                            spec.escalate->to),
                spec.source_file);
  }
  Slot* slot = SIE_TRY(slotFor(spec.name, spec));
  if (spec.process && spec.process->dapr) {
    if (!slot->dapr) slot->dapr = SIE_TRY(DaprApi::start(spec.name, state_.kv(), bus_, clock_));
    spec.process->env["DAPR_HTTP_PORT"] = std::to_string(slot->dapr->port());
    spec.process->loopback_ports.push_back(slot->dapr->port());
  }
  SIE_CHECK((**runtime)->validate(spec));
  const std::vector<std::string> triggers = spec.triggers;
  const BatchPolicy batch = spec.batch;
  auto runner = std::make_shared<FunctionRunner>(std::move(spec), **runtime, state_, actions_);
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
  if (warm) SIE_CHECK(runner->warm());  // the old version keeps serving until this succeeds
  std::shared_ptr<FunctionRunner> old;
  DeployOutcome outcome{runner->spec().id(), ""};
  {
    std::lock_guard lock(mu_);
    old = std::exchange(slot->runner, runner);
    slot->triggers = triggers;
    if (old) outcome.previous = old->spec().id();
    dispatcher_.setBatch(slot->target, batch);
    SIE_CHECK(route());
  }
  if (old) retire(std::move(old));
  return outcome;
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
  {
    std::lock_guard lock(mu_);
    old = std::exchange(slot->runner, nullptr);
  }
  retire(std::move(old));
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

void FunctionTable::handle(Slot& slot, std::span<const Event* const> events) {
  std::shared_ptr<FunctionRunner> runner;
  {
    std::lock_guard lock(mu_);
    runner = slot.runner;
  }
  if (runner) {
    runner->handleBatch(events);
    return;
  }
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
      spdlog::error("[{}] could not store dead letter: {}", slot.name, stored.error().str());
    }
  }
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
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, slot] : slots_) {
      if (slot->runner) serving.emplace_back(slot->runner, slot->target);
    }
    // Only the table holds these: no event runs on them any more.
    std::erase_if(retired_, [&](std::shared_ptr<FunctionRunner>& r) {
      if (r.use_count() != 1) return false;
      done.push_back(std::move(r));
      return true;
    });
  }
  for (auto& [runner, target] : serving) runner->pool().tick(dispatcher_.depth(target));
  for (auto& runner : done) runner->stopEscalating();
  done.clear();  // outside the lock: stopping workers takes a moment
}

void FunctionTable::stop() {
  std::vector<std::shared_ptr<FunctionRunner>> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, slot] : slots_) {
      if (slot->runner) all.push_back(slot->runner);
    }
    all.insert(all.end(), retired_.begin(), retired_.end());
  }
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
