// ControlPlane: deploys, updates, deletes and scales functions on a running node, and keeps what
// it was asked (desired_state.h) so a restarted node comes back the same. Every change is checked
// before anything changes (a broken manifest or model is refused and the serving version keeps
// serving), goes in the audit chain, and is durable when the call returns. Changes to one name
// are serialized: a second deploy of a name while one is in progress is a conflict (409).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "node/artifact_trust.h"
#include "node/desired_state.h"
#include "node/function_manifest.h"
#include "node/function_table.h"
#include "sie/state.h"

namespace sie::node {

// How a control call failed, for the API's status codes.
enum class ControlErrc { kInvalid, kNotFound, kConflict, kForbidden, kUnavailable, kInternal };

struct ControlError {
  ControlErrc code = ControlErrc::kInternal;
  Error error;  // message and where (file:line of the manifest, or the field)
};

template <typename T>
using ControlResult = tl::expected<T, ControlError>;

struct DeployReport {
  std::string name;
  std::string version;
  std::string previous;  // the version it replaced, "" if new
  bool changed = true;   // false: this exact manifest already served
};

class ControlPlane {
 public:
  ControlPlane(FunctionTable& table, AuditLog& audit, DesiredState desired, ArtifactTrust trust);

  // Node create: the config folder's manifests overlaid by the desired state (see
  // desired_state.h for the rule).
  Status load(const std::vector<SourceText>& site_files);

  // One Function manifest (YAML or JSON). `expect_version`: deploy only while that version
  // serves (the API's If-Match), "" for any. With `rollout`, the version deploys beside the
  // serving one as the rollout's candidate. `signature`: the X-Sie-Signature header
  // (artifact_trust.h); `stored`: the text is the node's own stored copy of a manifest.
  ControlResult<DeployReport> deploy(const std::string& text, const std::string& expect_version,
                                     const std::string& actor,
                                     const std::optional<RolloutPolicy>& rollout = std::nullopt,
                                     const std::string& signature = "", bool stored = false);
  ControlResult<void> setRollout(const std::string& name, const RolloutPolicy& policy,
                                 const std::string& actor);
  ControlResult<std::string> promote(const std::string& name, const std::string& actor);
  ControlResult<std::string> abortRollout(const std::string& name, const std::string& actor);
  // Blue-green switch to a version deployed before (its stored manifest): warm, then at once.
  ControlResult<DeployReport> switchTo(const std::string& name, const std::string& version,
                                       const std::string& actor);
  // `reset`: forget the API's word; the config folder's manifest (if any) serves again.
  ControlResult<void> remove(const std::string& name, bool reset, const std::string& actor);
  ControlResult<ScalingPolicy> scale(const std::string& name, const ScalingPolicy& scaling,
                                     const std::string& actor);

  // An audit record ("control" kind) of a change: a function's, or the trusted keys'.
  void audit(const std::string& subject, const std::string& event, const std::string& actor,
             const std::string& detail);
  // "api" when the API owns the name, else "site".
  [[nodiscard]] std::string origin(const std::string& name) const;
  // Versions with a stored manifest (API deploys) plus the config folder's, sorted.
  [[nodiscard]] std::vector<std::string> versions(const std::string& name) const;
  [[nodiscard]] FunctionTable& table() { return table_; }
  // The SHA-256 of name@version's stored manifest (API deploys), "" for none.
  [[nodiscard]] std::string manifestSha256(const std::string& name,
                                           const std::string& version) const;
  [[nodiscard]] const ArtifactTrust& trust() const { return trust_; }

 private:
  // `name` busy for one change, until the claim goes; a conflict while another change runs.
  struct Claim {
    ControlPlane* plane;
    std::string name;
    ~Claim();
  };
  ControlResult<std::unique_ptr<Claim>> claim(const std::string& name);
  // The table rolled a candidate back (objectives breached).
  void rolledBack(const std::string& name, const std::string& version, const std::string& reason);

  FunctionTable& table_;
  AuditLog& audit_;
  ArtifactTrust trust_;
  mutable std::mutex mu_;  // desired_, site_, busy_
  DesiredState desired_;
  std::map<std::string, FunctionSpec> site_;  // the config folder's function of each name
  std::set<std::string> busy_;
};

}  // namespace sie::node
