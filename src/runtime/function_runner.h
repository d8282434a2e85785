// FunctionRunner: runs one function for one event. Fetches the declared input bindings from the
// state layer, invokes a pooled instance, applies the outputs (KV writes, decision actions, emitted
// events), and dead-letters events whose invocation failed. A failed invocation with retries left
// (spec.retries) is handed back to the dispatcher, which tries it again after spec.retryDelay
// (doubled each time) without holding a thread; direct calls wait for their retries themselves.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "core/log.h"
#include "runtime/actions.h"
#include "runtime/escalation.h"
#include "runtime/handled.h"
#include "runtime/instance_pool.h"
#include "runtime/version_stats.h"
#include "sie/clock.h"
#include "sie/function.h"
#include "sie/metrics.h"
#include "sie/state.h"

namespace sie::node {

// The sensor a window binding reads for `reading`: the trigger's own, a fixed id, or a template
// over the trigger's id levels ({1}, {2}, ...), {sensor} and its tags.
Symbol windowSensor(const InputBinding& binding, const Telemetry& reading);

class FunctionRunner {
 public:
  // Sees every decision the function makes, after its actions (evaluation, comparisons).
  using DecisionTap = std::function<void(const Telemetry& reading, const Decision& decision)>;

  // `clock` stamps the dead letters it writes.
  FunctionRunner(FunctionSpec spec, std::shared_ptr<Executor> runtime, StateStore& state,
                 Actions& actions, const Clock& clock = systemClock());

  Status warm() { return pool_.warm(); }
  // Set before events flow.
  void tap(DecisionTap tap) { tap_ = std::move(tap); }
  // Called by dispatcher workers; events of one sensor never run concurrently. `failures`: how
  // often the event failed before. Not done when it failed again with retries left (the
  // dispatcher hands it over again after the delay). `decision`, when given, receives the
  // decision acted on (shadow comparisons).
  Handled handle(const Event& event, int failures = 0, std::optional<Decision>* decision = nullptr);
  // A micro-batch of one dispatcher lane, in order: one instance lease and one invokeBatch().
  // `failures` counts the first event's earlier failures; the turn ends at an event that failed
  // with retries left. `decisions`, when given, has one slot per event.
  Handled handleBatch(std::span<const Event* const> events, int failures = 0,
                      std::vector<std::optional<Decision>>* decisions = nullptr);
  // A canary's share of events: handles the event, or, when the invocation fails, leaves it
  // untouched (not dead-lettered, no effects) and returns false for the serving version to take
  // at once (the candidate is not retried).
  bool tryHandle(const Event& event);
  // A direct call (the control API's invoke): the output for `event`, its effects applied unless
  // `dry_run`. A failure is counted and returned to the caller, not dead-lettered.
  Result<Output> call(const Event& event, bool dry_run);
  // The function's decision on `event` without acting on it (escalations, comparisons).
  Result<std::optional<Decision>> evaluate(const Event& event);
  // spec.escalate: uncertain decisions go to `target` (set before events flow).
  void escalateTo(EscalationTarget target);
  // This runner as an escalation target (it must outlive the escalating runner).
  EscalationTarget asEscalationTarget() {
    return {spec_.id(), [this](const Event& event) { return evaluate(event); }};
  }
  // Waits for a running escalation and stops escalating (before the target goes away).
  void stopEscalating() { escalator_.reset(); }

  [[nodiscard]] const FunctionSpec& spec() const { return spec_; }
  [[nodiscard]] InstancePool& pool() { return pool_; }
  [[nodiscard]] const InstancePool& pool() const { return pool_; }
  // What the runtime runs for this function (a model's path and SHA-256, ...).
  [[nodiscard]] std::map<std::string, std::string> artifact() const {
    return pool_.runtime().artifact(spec_);
  }
  [[nodiscard]] std::uint64_t decisions() const { return normal_.value() + anomalies_.value(); }
  [[nodiscard]] std::uint64_t anomalies() const { return anomalies_.value(); }
  [[nodiscard]] std::uint64_t errors() const { return errors_.value(); }
  // This runner's invocations, failures and latency (rollout objectives).
  [[nodiscard]] const VersionStats& stats() const { return stats_; }

 private:
  struct Inputs {
    std::map<std::string, std::vector<Sample>, std::less<>> windows;
    std::map<std::string, double, std::less<>> values;
  };
  Result<Inputs> fetchInputs(const Telemetry& reading);
  // spec.model.hop, checked on the last two readings before the (larger) window fetch.
  bool skipForHop(const Telemetry& reading);
  Result<Output> invokeOnce(const Event& event, const Telemetry& reading, const Inputs& inputs);
  // Tries up to 1 + spec.retries times, sleeping between tries: for callers that wait for the
  // answer on their own thread (direct calls, escalations), never for dispatcher workers.
  Result<Output> invokeWaiting(const Event& event, const Telemetry& reading, const Inputs& inputs);
  // Whether an invocation that failed after `failures` earlier failures is tried again later.
  bool retryLater(const Event& event, const Error& why, int failures);
  Status apply(const Event& event, const Telemetry& reading, Output& output);
  // spec.idempotent: false when the event's effects were applied before (a redelivery).
  Result<bool> firstTime(const Event& event);
  // Replaces an uncertain decision by the escalation target's, when it answers in time.
  void escalateIfUncertain(const Event& event, Output& output);
  void deadLetter(const Event& event, const std::string& reason);
  // Records the event's latency (its share of a batch of `batch`) and dead-letters a failure.
  void finish(const Event& event, const Status& done, std::int64_t begin, std::size_t batch);

  FunctionSpec spec_;
  Log log_;  // [fn:name@version]
  DecisionTap tap_;
  std::unique_ptr<Escalator> escalator_;
  StateStore& state_;
  Actions& actions_;
  const Clock& clock_;
  InstancePool pool_;
  Counter& normal_;
  Counter& anomalies_;
  Counter& errors_;
  Counter& duplicates_;
  Histogram& duration_;
  Histogram& end_to_end_;
  VersionStats stats_;
};

}  // namespace sie::node
