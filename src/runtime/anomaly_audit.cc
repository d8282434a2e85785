#include "runtime/anomaly_audit.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace sie::node {
namespace {

constexpr std::int64_t kSummaryEveryNs = 1'000'000'000;

}  // namespace

AnomalyAudit::AnomalyAudit(AuditLog& audit, const Clock& clock, Options options)
    : audit_(audit),
      clock_(clock),
      limiter_(options.per_second, options.burst, clock),
      suppressed_total_(
          metrics().counter("sie_audit_suppressed_total",
                            "Audit records over their rate, counted into a summary record instead",
                            {{"kind", "decision"}})) {}

Status AnomalyAudit::record(std::string_view function, std::string_view sensor,
                            std::string_view body) {
  std::string key;
  key.reserve(function.size() + sensor.size() + 1);
  key.append(function).append(1, '\n').append(sensor);
  double retry_after_s = 0;
  const bool allowed = limiter_.allow(key, retry_after_s);
  const std::int64_t now = clock_.nowNs();
  // Appends happen under mu_, so a pair's summary precedes its next record in the chain.
  std::lock_guard lock(mu_);
  if (allowed) {
    if (auto it = pending_.find(key); it != pending_.end()) {
      SIE_CHECK(summarizeLocked(it->second));
      pending_.erase(it);
    }
    auto seq = audit_.append("decision", function, body);
    if (!seq) return tl::unexpected(seq.error());
    return ok();
  }
  suppressed_total_.inc();
  if (pending_.size() >= kMaxPending && !pending_.contains(key)) {
    key = std::string(function) + "\n*";
    sensor = "*";
  }
  auto [it, fresh] = pending_.try_emplace(key);
  Suppressed& s = it->second;
  if (fresh) {
    s.function = function;
    s.sensor = sensor;
    s.summarized_ns = now;
  }
  if (s.count == 0) s.first_ns = now;
  ++s.count;
  s.last_ns = now;
  // A pair that keeps flooding still shows up in the chain, once a second.
  if (now - s.summarized_ns >= kSummaryEveryNs) return summarizeLocked(s);
  return ok();
}

void AnomalyAudit::flush() {
  std::lock_guard lock(mu_);
  for (auto& [key, s] : pending_) {
    if (auto written = summarizeLocked(s); !written) {
      spdlog::error("audit: {}", written.error().str());
    }
  }
  pending_.clear();
}

Status AnomalyAudit::summarizeLocked(Suppressed& s) {
  if (s.count == 0) return ok();
  const nlohmann::json body{
      {"sensor", s.sensor},
      {"suppressed", s.count},
      {"from_ns", s.first_ns},
      {"to_ns", s.last_ns},
      {"detail", std::to_string(s.count) + " more anomaly records suppressed by the rate limit"}};
  auto seq = audit_.append("decision", s.function,
                           body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!seq) return tl::unexpected(seq.error());
  s.count = 0;
  s.summarized_ns = clock_.nowNs();
  return ok();
}

}  // namespace sie::node
