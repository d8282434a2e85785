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

#include "config/function_manifest.h"
#include "control/artifact_store.h"
#include "control/artifact_trust.h"
#include "control/desired_state.h"
#include "runtime/function_table.h"
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

// One deploy: a Function manifest (YAML or JSON) and how to take it.
struct DeployRequest {
  std::string text;
  std::string actor;
  // Deploy only while this version serves (the API's If-Match); "" for any.
  std::string expect_version;
  // Deploy beside the serving version as the rollout's candidate.
  std::optional<RolloutPolicy> rollout;
  std::string signature;               // the X-Sie-Signature header (artifact_trust.h)
  std::optional<SignedBundle> bundle;  // X-Sie-Bundle and X-Sie-Bundle-Signature, decoded
  // Deploy a bundle signed with a lower sequence than one deployed before (X-Sie-Rollback).
  bool rollback = false;
  ArtifactRefs artifacts;  // uploaded files the manifest names (artifact_store.h)
  bool stored = false;     // the text is the node's own stored copy of a manifest
};

struct DeployReport {
  std::string name;
  std::string version;
  std::string previous;  // the version it replaced, "" if new
  bool changed = true;   // false: this exact manifest already served
};

class ControlPlane {
 public:
  ControlPlane(FunctionTable& table, AuditLog& audit, DesiredState desired, ArtifactTrust trust,
               ArtifactStore store);

  // Node create: the config folder's manifests overlaid by the desired state (see
  // desired_state.h for the rule).
  Status load(const std::vector<SourceText>& site_files);

  ControlResult<DeployReport> deploy(const DeployRequest& request);
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
  // `decision`: the request guard's answer that let `actor` make the change ("allow"); "" for
  // changes the node makes itself.
  void audit(const std::string& subject, const std::string& event, const std::string& actor,
             const std::string& detail, std::string_view decision = "allow");
  // "api" when the API owns the name, else "site".
  [[nodiscard]] std::string origin(const std::string& name) const;
  // Versions with a stored manifest (API deploys) plus the config folder's, sorted.
  [[nodiscard]] std::vector<std::string> versions(const std::string& name) const;
  [[nodiscard]] FunctionTable& table() { return table_; }
  // The runtimes' manifest blocks, for reading manifests sent to the node.
  [[nodiscard]] const RuntimeSchemas& schemas() const { return schemas_; }
  // The SHA-256 of name@version's stored manifest (API deploys), "" for none.
  [[nodiscard]] std::string manifestSha256(const std::string& name,
                                           const std::string& version) const;
  [[nodiscard]] const ArtifactTrust& trust() const { return trust_; }
  [[nodiscard]] const ArtifactStore& artifacts() const { return store_; }
  // The uploaded artifacts name@version runs ({} for none, or a config-folder version).
  [[nodiscard]] ArtifactRefs artifactRefs(const std::string& name,
                                          const std::string& version) const;
  // "name@version (path)" of every stored version that runs the artifact.
  [[nodiscard]] std::vector<std::string> artifactUsers(const std::string& sha256) const;
  // Deletes a stored artifact no stored version runs; a conflict naming them otherwise.
  ControlResult<void> removeArtifact(const std::string& sha256, const std::string& actor);

 private:
  // `name` busy for one change, until the claim goes; a conflict while another change runs.
  struct Claim {
    ControlPlane* plane;
    std::string name;
    ~Claim();
  };
  ControlResult<std::unique_ptr<Claim>> claim(const std::string& name);
  // name@version's stored manifest as a spec, its artifacts laid out.
  Result<FunctionSpec> storedSpec(const std::string& name, const std::string& version) const;
  // Points `spec` at the uploaded files `refs` names, laid out in version's folder; refuses
  // references the manifest does not use.
  Status bind(FunctionSpec& spec, const ArtifactRefs& refs) const;
  // The table rolled a candidate back (objectives breached).
  void rolledBack(const std::string& name, const std::string& version, const std::string& reason);

  FunctionTable& table_;
  const RuntimeSchemas schemas_;
  AuditLog& audit_;
  ArtifactTrust trust_;
  ArtifactStore store_;
  mutable std::mutex mu_;  // desired_, site_, busy_
  DesiredState desired_;
  std::map<std::string, FunctionSpec> site_;  // the config folder's function of each name
  std::set<std::string> busy_;
};

}  // namespace sie::node
