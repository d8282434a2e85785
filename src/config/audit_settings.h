// spec.audit: how the node seals, exports and trims its audit chain, and how many anomaly records
// one subject may add before the rest are counted into a summary record.
#pragma once

#include <span>
#include <string>

#include <yaml-cpp/yaml.h>

#include "sie/audit_seal.h"
#include "sie/config.h"
#include "sie/result.h"

namespace sie::node {

struct AuditSettings {
  // key_file "" = <dataDir>/audit.key. Paths are resolved against the site file's folder.
  AuditSealOptions seal;
  // Anomaly decision records per subject (function and sensor): a burst, then this many a second;
  // the excess is counted and written as one summary record. 0: no limit.
  double anomalies_per_second = 1;
  double anomaly_burst = 20;
};

// Reads the spec.audit block of `file` (absent: the defaults).
Result<AuditSettings> parseAuditSettings(const YAML::Node& block, const std::string& file);
// The keys of spec.audit, for the generated reference.
std::span<const ConfigKey> auditKeys();

}  // namespace sie::node
