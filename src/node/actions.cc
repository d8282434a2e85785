#include "node/actions.h"

#include <atomic>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>


namespace sie::node {

std::string decisionJson(const FunctionSpec& spec, const Telemetry& reading,
                         const Decision& decision) {
  nlohmann::json doc = {
      {"function", spec.name},      {"version", spec.version},
      {"sensor", reading.sensor.str()}, {"ts_ns", reading.ts_ns},
      {"value", reading.value()},   {"score", decision.score},
      {"anomaly", decision.anomaly}, {"label", decision.label},
      {"detail", decision.detail},
  };
  // NaN/inf are not JSON; an unscored decision says so with null.
  if (!std::isfinite(decision.score)) doc["score"] = nullptr;
  if (!std::isfinite(reading.value())) doc["value"] = nullptr;
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string expandTemplate(std::string_view text, std::string_view sensor,
                           std::string_view function) {
  std::string out;
  out.reserve(text.size() + sensor.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text.substr(i, 8) == "{sensor}") {
      out += sensor;
      i += 8;
    } else if (text.substr(i, 10) == "{function}") {
      out += function;
      i += 10;
    } else {
      out += text[i++];
    }
  }
  return out;
}

Actions::Actions(Bus& bus, AuditLog& audit, const Clock& clock, std::size_t keep_recent)
    : bus_(bus), audit_(audit), clock_(clock), keep_recent_(keep_recent) {}

Status Actions::decide(const FunctionSpec& spec, const Telemetry& reading,
                       const Decision& decision) {
  static std::atomic<std::uint64_t> next_id{1};
  const std::string id = spec.id();
  Event event;
  event.id = fmt::format("d-{}", next_id.fetch_add(1, std::memory_order_relaxed));
  event.source = "sie://function/" + id;
  event.type = std::string(kDecisionType);
  event.subject = std::string(reading.sensor.str());
  event.time_ns = clock_.nowNs();
  event.datacontenttype = "application/json";
  event.data = decisionJson(spec, reading, decision);

  for (const auto& rule : spec.outputs) {
    if (rule.kind != OutputRule::Kind::kDecision) continue;
    if (rule.only_anomalies && !decision.anomaly) continue;
    bus_.publish(expandTemplate(rule.topic, event.subject, spec.name), event);
  }
  {
    std::lock_guard lock(mu_);
    recent_.emplace_back(decision.anomaly, event.data);
    if (recent_.size() > keep_recent_) recent_.pop_front();
  }
  if (!decision.anomaly) {
    spdlog::debug("[{}] {} {} score={:.3f}", id, event.subject, decision.label, decision.score);
    return ok();
  }
  spdlog::info("[{}] ANOMALY {} {} score={:.3f} {}", id, event.subject, decision.label,
               decision.score, decision.detail);
  auto seq = audit_.append("decision", id, event.data);
  if (!seq) return tl::unexpected(seq.error());
  return ok();
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
    if (!anomalies_only || it->first) out.push_back(it->second);
  }
  return out;
}

}  // namespace sie::node
