// Actions taken on a function's decision: publish a decision event on the bus (and so to every
// sink), log it, and append anomalies to the audit chain. Also keeps the most recent decisions for
// the API. Anomaly records are rate limited per function and sensor (anomaly_audit.h). `spec`
// passed in must outlive the Actions object.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/anomaly_audit.h"
#include "sie/bus.h"
#include "sie/clock.h"
#include "sie/function.h"
#include "sie/state.h"

namespace sie::node {

// The JSON data of a decision event (also the audit record body).
std::string decisionJson(std::string_view function, std::string_view version,
                         const Telemetry& reading, const Decision& decision);

// A decision's id: the same for the same reading and function version, in every run, so a
// receiver that drops duplicates by id drops redeliveries and nothing else. 128 bits of SHA-256
// over (function@version, sensor, timestamp); the gateway keeps one reading per sensor and ts.
std::string decisionId(std::string_view function_id, const Telemetry& reading);

// Expands {sensor} and {function} in a key or topic template.
std::string expandTemplate(std::string_view text, std::string_view sensor,
                           std::string_view function);

class Actions {
 public:
  Actions(Bus& bus, AuditLog& audit, const Clock& clock, std::size_t keep_recent = 1000,
          AnomalyAudit::Options anomaly_audit = {});

  // Applies the decision rules of `spec` to one decision.
  Status decide(const FunctionSpec& spec, const Telemetry& reading, const Decision& decision);
  // Publishes function-emitted events on the event output rules' topics.
  void emit(const FunctionSpec& spec, const Telemetry& reading, std::vector<Event>& events);
  // The newest decisions (JSON documents), newest first; anomalies only when asked.
  [[nodiscard]] std::vector<std::string> recent(std::size_t limit, bool anomalies_only) const;
  // Writes the summaries of rate-limited anomaly records; before the state closes.
  void flushAudit() { anomaly_audit_.flush(); }

 private:
  Bus& bus_;
  AnomalyAudit anomaly_audit_;
  const Clock& clock_;
  std::size_t keep_recent_;
  struct Recent {
    // Copies: the function's runner may be replaced (a redeploy) before the entry is read.
    std::string function;
    std::string version;
    Telemetry reading;  // sensor, ts and first value only
    Decision decision;
  };
  mutable std::mutex mu_;
  std::deque<Recent> recent_;  // newest at the back; rendered to JSON only when asked for
};

}  // namespace sie::node
