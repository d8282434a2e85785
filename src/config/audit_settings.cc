#include "config/audit_settings.h"

#include <filesystem>

#include "core/config_table.h"

namespace sie::node {
namespace {

using Type = ConfigKey::Type;

constexpr ConfigKey kAuditKeys[] = {
    {"keyFile", Type::kString, "",
     "the node's Ed25519 key that signs audit checkpoints (PEM, relative to this file); created "
     "with mode 0600, and its public key as KEYFILE.pub, when missing (default: "
     "dataDir/audit.key)"},
    ConfigKey{"checkpointRecords", Type::kInt, "1000",
              "a signed checkpoint after this many records (0: not by count)"}
        .atLeast(0),
    {"checkpointInterval", Type::kDuration, "60s",
     "a signed checkpoint once the oldest unsealed record is this old (0: not by time); the "
     "node also seals the chain when it stops"},
    {"exportFile", Type::kString, "",
     "every checkpoint is also appended here (JSON lines, fsynced); put it on another volume so "
     "`sie audit verify --checkpoints` detects a deleted, replaced or truncated database"},
    ConfigKey{"maxRecords", Type::kInt, "0",
              "keep at most this many records (0: keep all); older ones are pruned once a signed "
              "checkpoint covers them, and that checkpoint records where the chain now starts"}
        .atLeast(10)
        .orZero(),
    {"maxAge", Type::kDuration, "0s", "prune records older than this the same way (0: keep all)"},
    ConfigKey{"anomaliesPerSecond", Type::kDouble, "1",
              "anomaly decision records per function and sensor after the burst; the excess is "
              "counted into one summary record (\"N more suppressed\"), never dropped silently "
              "(0: no limit)"}
        .atLeast(0),
    ConfigKey{"anomalyBurst", Type::kDouble, "20",
              "anomaly records a function and sensor may add at once"}
        .atLeast(1),
};

}  // namespace

std::span<const ConfigKey> auditKeys() { return kAuditKeys; }

Result<AuditSettings> parseAuditSettings(const YAML::Node& block, const std::string& file) {
  AuditSettings out;
  if (!block || block.IsNull()) return out;
  auto a = SIE_TRY(readConfig(block, kAuditKeys, file, {}, "spec.audit"));
  const std::filesystem::path base = std::filesystem::path(file).parent_path();
  const auto resolve = [&base](const std::string& path) {
    return path.empty() ? path : (base / path).lexically_normal().string();
  };
  out.seal.key_file = resolve(a.str("keyFile"));
  out.seal.export_file = resolve(a.str("exportFile"));
  out.seal.checkpoint_records = static_cast<std::size_t>(a.integer("checkpointRecords"));
  out.seal.max_records = static_cast<std::size_t>(a.integer("maxRecords"));
  out.seal.checkpoint_interval = a.duration("checkpointInterval");
  out.seal.max_age = a.duration("maxAge");
  if (out.seal.checkpoint_records == 0 && out.seal.checkpoint_interval.count() == 0 &&
      (out.seal.max_records > 0 || out.seal.max_age.count() > 0)) {
    return a.invalid(
        "audit.maxRecords and audit.maxAge prune only after a checkpoint; set "
        "audit.checkpointRecords or audit.checkpointInterval");
  }
  out.anomalies_per_second = a.number("anomaliesPerSecond");
  out.anomaly_burst = a.number("anomalyBurst");
  return out;
}

}  // namespace sie::node
