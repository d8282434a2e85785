#include "runtime/function_runner.h"

#include <charconv>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "core/placeholders.h"
#include "exec/builtin/readings.h"
#include "exec/onnx/model_binding.h"
#include "gateway/telemetry_json.h"
#include "sie/clock.h"

namespace sie::node {

FunctionRunner::FunctionRunner(FunctionSpec spec, std::shared_ptr<Executor> runtime,
                               StateStore& state, Actions& actions, const Clock& clock)
    : spec_(std::move(spec)),
      log_("fn", spec_.id()),
      state_(state),
      actions_(actions),
      clock_(clock),
      pool_(std::move(runtime), spec_),
      normal_(metrics().counter("sie_decisions_total", "Decisions made by functions.",
                                {{"function", spec_.id()}, {"outcome", "normal"}})),
      anomalies_(metrics().counter("sie_decisions_total", "Decisions made by functions.",
                                   {{"function", spec_.id()}, {"outcome", "anomaly"}})),
      errors_(metrics().counter("sie_function_errors_total",
                                "Invocations that failed after all retries.",
                                {{"function", spec_.id()}})),
      duplicates_(metrics().counter("sie_duplicate_events_total",
                                    "Events whose effects were already applied (not again).",
                                    {{"function", spec_.id()}})),
      duration_(metrics().histogram("sie_function_duration_seconds",
                                    "Invocation time including input fetch and actions.",
                                    {{"function", spec_.id()}})),
      end_to_end_(metrics().histogram("sie_event_to_action_seconds",
                                      "From the gateway accepting an event to its actions done.",
                                      {{"function", spec_.id()}})) {}

namespace {

// {sensor}, {function}, {1}, {2}, ... (levels of the trigger's sensor id) and the trigger's tags.
std::string expandForTrigger(std::string_view text, const Telemetry& reading,
                             std::string_view function) {
  const std::string_view id = reading.sensor.str();
  return expandPlaceholders(text, [&](std::string_view name) -> std::optional<std::string_view> {
    if (name == "sensor") return id;
    if (name == "function") return function;
    std::size_t level = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), level);
    if (ec != std::errc() || end != name.data() + name.size()) return findTag(reading.tags, name);
    std::size_t start = 0;
    for (std::size_t i = 1; i < level && start != std::string_view::npos; ++i) {
      start = id.find('/', start);
      if (start != std::string_view::npos) ++start;
    }
    if (level == 0 || start == std::string_view::npos) return std::nullopt;
    return id.substr(start, id.find('/', start) - start);
  });
}

// The latest moment strictly before `ts_ns`.
std::int64_t justBefore(std::int64_t ts_ns) {
  return ts_ns == std::numeric_limits<std::int64_t>::min() ? ts_ns : ts_ns - 1;
}

}  // namespace

Symbol windowSensor(const InputBinding& binding, const Telemetry& reading) {
  if (binding.sensor.empty()) return reading.sensor;
  if (binding.sensor.find('{') == std::string::npos) return Symbol::intern(binding.sensor);
  return Symbol::intern(expandForTrigger(binding.sensor, reading, ""));
}

Result<FunctionRunner::Inputs> FunctionRunner::fetchInputs(const Telemetry& reading) {
  Inputs inputs;
  for (const auto& binding : spec_.inputs) {
    if (binding.kind == InputBinding::Kind::kWindow) {
      const Symbol source = windowSensor(binding, reading);
      // As of the trigger, whatever was recorded since (ingest runs ahead of dispatch under
      // load): its own sensor's readings before it, other channels' up to its moment.
      const std::int64_t until =
          source == reading.sensor ? justBefore(reading.ts_ns) : reading.ts_ns;
      auto samples = SIE_TRY(state_.timeSeries().lastUntil(source, until, binding.last));
      inputs.windows.emplace(binding.name, std::move(samples));
      continue;
    }
    const std::string key = expandForTrigger(binding.key, reading, spec_.name);
    auto stored = SIE_TRY(state_.kv().get(key));
    double value = 0;
    if (stored) {
      auto [end, ec] = std::from_chars(stored->data(), stored->data() + stored->size(), value);
      if (ec != std::errc() || end != stored->data() + stored->size()) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("input '{}': KV key '{}' holds '{}', not a number", binding.name,
                                key, *stored));
      }
      inputs.values.emplace(binding.name, value);
    } else if (binding.fallback) {
      inputs.values.emplace(binding.name, *binding.fallback);
    }
  }
  return inputs;
}

Result<Output> FunctionRunner::invokeOnce(const Event& event, const Telemetry& reading,
                                          const Inputs& inputs) {
  auto lease = SIE_TRY(pool_.acquire());
  return lease->invoke(Invocation{event, reading, inputs.windows, inputs.values, spec_});
}

Result<Output> FunctionRunner::invokeWaiting(const Event& event, const Telemetry& reading,
                                             const Inputs& inputs) {
  for (int failures = 0;; ++failures) {
    auto output = invokeOnce(event, reading, inputs);
    if (output || failures >= spec_.retries) return output;
    log_.debug("try {} failed: {}", failures + 1, output.error().str());
    std::this_thread::sleep_for(retryDelay(spec_.retry_delay, failures + 1));
  }
}

bool FunctionRunner::retryLater(const Event& event, const Error& why, int failures) {
  if (failures >= spec_.retries) return false;
  log_.debug("{}: try {} failed, tried again in {} ms: {}", event.subject, failures + 1,
             retryDelay(spec_.retry_delay, failures + 1).count(), why.str());
  return true;
}

Result<bool> FunctionRunner::firstTime(const Event& event) {
  if (!spec_.idempotent || event.id.empty()) return true;
  constexpr auto kKeep = std::chrono::hours(24);
  const bool first = SIE_TRY(
      state_.kv().compareAndSet(fmt::format("applied/{}/{}", spec_.id(), event.id), std::nullopt,
                                "1", std::chrono::duration_cast<std::chrono::milliseconds>(kKeep)));
  if (!first) duplicates_.inc();
  return first;
}

Status FunctionRunner::apply(const Event& event, const Telemetry& reading, Output& output) {
  if (!SIE_TRY(firstTime(event))) return ok();
  const std::string_view sensor = reading.sensor.str();
  for (const auto& write : output.kv_writes) {
    SIE_CHECK(
        state_.kv().put(expandTemplate(write.key, sensor, spec_.name), write.value, write.ttl));
  }
  if (output.decision) {
    for (const auto& rule : spec_.outputs) {
      if (rule.kind != OutputRule::Kind::kKv) continue;
      if (rule.only_anomalies && !output.decision->anomaly) continue;
      SIE_CHECK(state_.kv().put(expandForTrigger(rule.key, reading, spec_.name),
                                builtin::exactText(output.decision->score), rule.ttl));
    }
    (output.decision->anomaly ? anomalies_ : normal_).inc();
    SIE_CHECK(actions_.decide(spec_, reading, *output.decision));
    if (tap_) tap_(reading, *output.decision);
  }
  if (!output.events.empty()) actions_.emit(spec_, reading, output.events);
  return ok();
}

Handled FunctionRunner::handle(const Event& event, int failures,
                               std::optional<Decision>* decision) {
  const std::int64_t begin = monotonicNs();
  if (!event.telemetry) {
    deadLetter(event, "event carries no decoded telemetry");
    return Handled::all(1);
  }
  const Telemetry& reading = *event.telemetry;
  if (skipForHop(reading)) return Handled::all(1);
  bool again = false;
  Status done = [&]() -> Status {
    auto inputs = SIE_TRY(fetchInputs(reading));
    auto output = invokeOnce(event, reading, inputs);
    if (!output) {
      again = retryLater(event, output.error(), failures);
      return tl::unexpected(output.error());
    }
    escalateIfUncertain(event, *output);
    SIE_CHECK(apply(event, reading, *output));
    if (decision != nullptr) *decision = output->decision;
    return ok();
  }();
  if (again) return Handled{0, retryDelay(spec_.retry_delay, failures + 1)};
  finish(event, done, begin, 1);
  return Handled::all(1);
}

bool FunctionRunner::tryHandle(const Event& event) {
  const std::int64_t begin = monotonicNs();
  if (!event.telemetry) return false;
  const Telemetry& reading = *event.telemetry;
  if (skipForHop(reading)) return true;
  Status done = [&]() -> Status {
    auto inputs = SIE_TRY(fetchInputs(reading));
    auto output = SIE_TRY(invokeOnce(event, reading, inputs));
    escalateIfUncertain(event, output);
    return apply(event, reading, output);
  }();
  const std::int64_t end = monotonicNs();
  duration_.observe(static_cast<double>(end - begin) * 1e-9);
  stats_.record(end - begin, !done);
  if (!done) {
    log_.debug("{}: {}; the serving version takes it", event.subject, done.error().str());
    return false;
  }
  if (event.ingest_ns > 0) end_to_end_.observe(static_cast<double>(end - event.ingest_ns) * 1e-9);
  return true;
}

bool FunctionRunner::skipForHop(const Telemetry& reading) {
  const onnx::ModelBinding* model = onnx::modelBinding(spec_);
  if (model == nullptr || model->hop.count() <= 0) return false;
  auto previous = state_.timeSeries().lastUntil(reading.sensor, justBefore(reading.ts_ns), 1);
  if (!previous || previous->empty()) return false;  // the full fetch reports an error
  return onnx::inSameHop(model->hop, previous->back().ts_ns, reading.ts_ns);
}

Result<Output> FunctionRunner::call(const Event& event, bool dry_run) {
  if (!event.telemetry) return fail(Errc::kInvalidArgument, "event carries no decoded telemetry");
  const std::int64_t begin = monotonicNs();
  const Telemetry& reading = *event.telemetry;
  Result<Output> output = [&]() -> Result<Output> {
    auto inputs = SIE_TRY(fetchInputs(reading));
    auto out = SIE_TRY(invokeWaiting(event, reading, inputs));
    escalateIfUncertain(event, out);
    if (!dry_run) SIE_CHECK(apply(event, reading, out));
    return out;
  }();
  const std::int64_t took = monotonicNs() - begin;
  duration_.observe(static_cast<double>(took) * 1e-9);
  stats_.record(took, !output);
  if (!output) errors_.inc();
  return output;
}

Result<std::optional<Decision>> FunctionRunner::evaluate(const Event& event) {
  if (!event.telemetry) return fail(Errc::kInvalidArgument, "event carries no decoded telemetry");
  auto inputs = SIE_TRY(fetchInputs(*event.telemetry));
  auto output = SIE_TRY(invokeWaiting(event, *event.telemetry, inputs));
  return output.decision;
}

void FunctionRunner::escalateTo(EscalationTarget target) {
  escalator_ = std::make_unique<Escalator>(std::move(target), spec_.id());
}

void FunctionRunner::escalateIfUncertain(const Event& event, Output& output) {
  if (!escalator_ || !output.decision) return;
  const EscalationPolicy& policy = *spec_.escalate;
  Decision& local = *output.decision;
  if (local.score < policy.low || local.score >= policy.high) return;
  std::string why;
  if (auto answer = escalator_->ask(event, policy.deadline, why)) {
    answer->detail = fmt::format("escalated (local score {:.3f}): {}", local.score, answer->detail);
    local = std::move(*answer);
    return;
  }
  local.detail += fmt::format(" (uncertain; {}: local decision)", why);
}

Handled FunctionRunner::handleBatch(std::span<const Event* const> events, int failures,
                                    std::vector<std::optional<Decision>>* decisions) {
  if (events.size() == 1) {
    return handle(*events.front(), failures, decisions != nullptr ? &decisions->front() : nullptr);
  }
  const std::int64_t begin = monotonicNs();
  // Inputs first, all of them: the invocations refer to them.
  std::vector<std::optional<Result<Inputs>>> inputs(events.size());
  std::vector<Invocation> calls;  // one per event whose inputs were fetched, in order
  calls.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& event = *events[i];
    if (!event.telemetry || skipForHop(*event.telemetry)) continue;
    inputs[i] = fetchInputs(*event.telemetry);
    if (!*inputs[i]) continue;
    const Inputs& in = **inputs[i];
    calls.push_back(Invocation{event, *event.telemetry, in.windows, in.values, spec_});
  }
  std::vector<Result<Output>> outputs;
  if (auto lease = pool_.acquire(); lease) {
    outputs = (*lease)->invokeBatch(calls);
  } else {
    outputs.assign(calls.size(), tl::unexpected(lease.error()));
  }
  // Effects in the lane's order; a failed call with retries left ends the turn there, and it and
  // the events behind it are handed over again after the delay.
  std::size_t k = 0;  // next call
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& event = *events[i];
    if (!event.telemetry) {
      deadLetter(event, "event carries no decoded telemetry");
      continue;
    }
    if (!inputs[i]) continue;  // skipped for the hop
    if (!*inputs[i]) {
      finish(event, tl::unexpected(inputs[i]->error()), begin, events.size());
      continue;
    }
    Result<Output>& output = outputs[k++];
    const int tried = i == 0 ? failures : 0;
    if (!output && retryLater(event, output.error(), tried)) {
      return Handled{i, retryDelay(spec_.retry_delay, tried + 1)};
    }
    if (output) escalateIfUncertain(event, *output);
    Status done = output ? apply(event, *event.telemetry, *output) : tl::unexpected(output.error());
    if (done && decisions != nullptr) (*decisions)[i] = output->decision;
    finish(event, done, begin, events.size());
  }
  return Handled::all(events.size());
}

void FunctionRunner::finish(const Event& event, const Status& done, std::int64_t begin,
                            std::size_t batch) {
  const std::int64_t end = monotonicNs();
  duration_.observe(static_cast<double>(end - begin) * 1e-9 / static_cast<double>(batch));
  stats_.record((end - begin) / static_cast<std::int64_t>(batch), !done);
  if (event.ingest_ns > 0) end_to_end_.observe(static_cast<double>(end - event.ingest_ns) * 1e-9);
  if (!done) {
    errors_.inc();
    deadLetter(event, done.error().str());
  }
}

void FunctionRunner::deadLetter(const Event& event, const std::string& reason) {
  log_.warn("{}: {}", event.subject, reason);
  DeadLetter letter;
  letter.ts_ns = clock_.nowNs();
  letter.origin = "function:" + spec_.id();
  letter.reason = reason;
  letter.subject = event.subject;
  letter.payload = event.data.empty() && event.telemetry
                       ? gateway::renderTelemetryJson(*event.telemetry)
                       : event.data;
  if (auto stored = state_.deadLetters().put(std::move(letter)); !stored) {
    log_.error("could not store dead letter: {}", stored.error().str());
  }
}

}  // namespace sie::node
