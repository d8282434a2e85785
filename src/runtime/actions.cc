#include "runtime/actions.h"

#include <cmath>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include "core/log.h"
#include "core/placeholders.h"
#include "core/sha256.h"

namespace sie::node {

std::string decisionJson(std::string_view function, std::string_view version,
                         const Telemetry& reading, const Decision& decision) {
  // NaN/inf are not JSON; an unscored decision says so with null.
  const auto number = [](double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; };
  const auto text = [](std::string_view v) {
    return nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  std::string json = fmt::format(
      R"({{"function":{},"version":{},"sensor":{},"ts_ns":{},"value":{},"score":{},"anomaly":{},"label":{},"detail":{})",
      text(function), text(version), text(reading.sensor.str()), reading.ts_ns,
      number(reading.value()), number(decision.score), decision.anomaly, text(decision.label),
      text(decision.detail));
  // What the decision was made on: a stale or flagged reading says so.
  json += R"(,"quality":)";
  json += text(qualityName(reading.quality));
  if (!reading.flag.empty()) {
    json += R"(,"flag":)";
    json += text(reading.flag);
  }
  if (!reading.tags.empty()) {
    json += R"(,"tags":{)";
    for (std::size_t i = 0; i < reading.tags.size(); ++i) {
      if (i > 0) json += ',';
      json += text(reading.tags[i].first);
      json += ':';
      json += text(reading.tags[i].second);
    }
    json += '}';
  }
  json += '}';
  return json;
}

std::string expandTemplate(std::string_view text, std::string_view sensor,
                           std::string_view function) {
  return expandPlaceholders(text, [&](std::string_view name) -> std::optional<std::string_view> {
    if (name == "sensor") return sensor;
    if (name == "function") return function;
    return std::nullopt;
  });
}

std::string decisionId(std::string_view function_id, const Telemetry& reading) {
  std::string key(function_id);
  key += '\0';
  key += reading.sensor.str();
  key += '\0';
  fmt::format_to(std::back_inserter(key), "{}", reading.ts_ns);
  const std::string digest =
      sha256Hex({reinterpret_cast<const std::uint8_t*>(key.data()), key.size()});  // NOLINT: bytes
  return "d-" + digest.substr(0, 32);
}

Actions::Actions(Bus& bus, AuditLog& audit, const Clock& clock, std::size_t keep_recent,
                 AnomalyAudit::Options anomaly_audit)
    : bus_(bus),
      anomaly_audit_(audit, clock, anomaly_audit),
      clock_(clock),
      keep_recent_(keep_recent) {}

Status Actions::decide(const FunctionSpec& spec, const Telemetry& reading,
                       const Decision& decision) {
  {
    std::lock_guard lock(mu_);
    Telemetry kept{reading.sensor, reading.ts_ns, {reading.value()}};
    kept.tags = reading.tags;
    recent_.push_back({spec.name, spec.version, std::move(kept), decision});
    if (recent_.size() > keep_recent_) recent_.pop_front();
  }
  const std::string_view sensor = reading.sensor.str();
  std::optional<Event> event;  // built once, and only when someone will see it
  const auto build = [&]() -> const Event& {
    if (!event) {
      event.emplace();
      event->id = decisionId(spec.id(), reading);
      event->source = "sie://function/" + spec.id();
      event->type = std::string(kDecisionType);
      event->subject = std::string(sensor);
      event->time_ns = clock_.nowNs();
      event->datacontenttype = "application/json";
      event->data = decisionJson(spec.name, spec.version, reading, decision);
      event->tags = reading.tags;
    }
    return *event;
  };
  for (const auto& rule : spec.outputs) {
    if (rule.kind == OutputRule::Kind::kKv) continue;  // written by the runner (state)
    if (rule.only_anomalies && !decision.anomaly) continue;
    const std::string topic = expandTemplate(rule.topic, sensor, spec.name);
    if (!bus_.hasSubscribers(topic)) continue;
    if (rule.kind == OutputRule::Kind::kDecision) {
      bus_.publish(topic, build());
      continue;
    }
    Event command = build();  // an actuator command: the decision that asks for it as data
    command.id = "c" + command.id.substr(1);
    command.type = std::string(kCommandType);
    bus_.publish(topic, command);
  }
  if (!decision.anomaly) {
    if (spdlog::should_log(spdlog::level::debug)) {
      Log("fn", spec.id()).debug("{} {} score={:.3f}", sensor, decision.label, decision.score);
    }
    return ok();
  }
  Log("fn", spec.id())
      .info("ANOMALY {} {} score={:.3f} {}", sensor, decision.label, decision.score,
            decision.detail);
  return anomaly_audit_.record(spec.id(), sensor, build().data);
}

void Actions::emit(const FunctionSpec& spec, const Telemetry& reading, std::vector<Event>& events) {
  const std::string sensor(reading.sensor.str());
  for (const auto& rule : spec.outputs) {
    if (rule.kind != OutputRule::Kind::kEvent) continue;
    for (auto& event : events) {
      if (event.source.empty()) event.source = "sie://function/" + spec.id();
      if (event.time_ns == 0) event.time_ns = clock_.nowNs();
      bus_.publish(expandTemplate(rule.topic, sensor, spec.name), event);
    }
  }
}

std::vector<std::string> Actions::recent(std::size_t limit, bool anomalies_only) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < limit; ++it) {
    if (!anomalies_only || it->decision.anomaly) {
      out.push_back(decisionJson(it->function, it->version, it->reading, it->decision));
    }
  }
  return out;
}

}  // namespace sie::node
