// DesiredState: what the control API was asked to run, kept in <data_dir>/control so a restarted
// node comes back with the same functions, versions and scaling.
//
//   control/desired.json                     {"functions": {name: {"version", "deleted",
//                                              "scaling"}}, "sequences": {name: n}}, replaced
//                                              atomically
//   control/functions/<name>/<version>.yaml  each manifest as deployed
//   control/functions/<name>/<version>.artifacts.json
//                                            its uploaded files, {path: sha256} (artifact_store.h)
//   control/functions/<name>/<version>.bundle, .bundle.sig
//                                            its signed bundle (function_bundle.h), if any
//   control/functions/<name>/<version>.files/
//                                            those files laid out as the manifest names them
//
// The rule between the config folder and the API (docs/CONTROL.md): a name the API deployed,
// deleted or scaled keeps what the API said across restarts, whatever the config folder holds;
// every other name comes from the config folder. `sie fn reset NAME` (DELETE with
// ?reset=true) forgets the API's word and returns the name to the folder.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/function_bundle.h"
#include "config/function_manifest.h"
#include "control/artifact_store.h"
#include "core/env.h"
#include "runtime/rollout_policy.h"
#include "sie/function.h"
#include "sie/result.h"

namespace sie::node {

class DesiredState {
 public:
  struct Candidate {
    std::string version;
    RolloutPolicy policy;
  };
  struct Entry {
    std::string version;  // serving version; "" when deleted
    bool deleted = false;
    std::optional<ScalingPolicy> scaling;  // set by a scale call
    std::optional<Candidate> candidate;    // a rollout in progress
  };

  // Reads control/ under `data_dir` (a missing folder is an empty state).
  // Writes go through `env` (tests inject a full disk or a failed fsync).
  static Result<DesiredState> load(const std::string& data_dir, const Env& env = Env::system());

  [[nodiscard]] const std::map<std::string, Entry>& entries() const { return entries_; }
  [[nodiscard]] const Entry* find(const std::string& name) const;
  // The stored manifest of name@version, or nullopt.
  [[nodiscard]] Result<std::optional<SourceText>> manifest(const std::string& name,
                                                           const std::string& version) const;
  // Versions of `name` with a stored manifest, sorted.
  [[nodiscard]] std::vector<std::string> versions(const std::string& name) const;
  // Where name@version's manifest is (or would be) stored.
  [[nodiscard]] std::string manifestPath(const std::string& name, const std::string& version) const;
  // The uploaded artifacts name@version runs ({} for none), and where they are laid out.
  [[nodiscard]] Result<ArtifactRefs> artifacts(const std::string& name,
                                               const std::string& version) const;
  [[nodiscard]] std::string filesDir(const std::string& name, const std::string& version) const;
  // "name@version (path)" of every stored version that runs the artifact.
  [[nodiscard]] std::vector<std::string> artifactUsers(const std::string& sha256) const;

  // The highest signed-bundle sequence deployed for `name` (0: none). Never forgotten, not even
  // by a reset or a delete, so an old signed release cannot come back unannounced.
  [[nodiscard]] std::int64_t signedSequence(const std::string& name) const;
  // The signed bundle name@version was deployed with, or nullopt.
  [[nodiscard]] Result<std::optional<SignedBundle>> bundle(const std::string& name,
                                                           const std::string& version) const;
  // Keeps name@version's signed bundle and raises name's sequence to `sequence`; durable with the
  // change that follows (deployed, candidate).
  Status signedWith(const std::string& name, const std::string& version, const SignedBundle& bundle,
                    std::int64_t sequence);

  // Each change is durable when it returns (written, fsynced, renamed); a change that cannot be
  // made durable is an error and is forgotten, so what this object says is what the disk holds.
  Status deployed(const std::string& name, const std::string& version, const std::string& text,
                  const ArtifactRefs& refs);
  Status deleted(const std::string& name);
  // `version` serves at `scaling` (a config-folder version has no stored manifest).
  Status scaled(const std::string& name, const std::string& version, const ScalingPolicy& scaling);
  Status reset(const std::string& name);
  // Rollouts: a candidate beside `serving` (which the API owns from now on), a new policy, the
  // candidate promoted, or gone (aborted, rolled back).
  Status candidate(const std::string& name, const std::string& serving, const std::string& version,
                   const std::string& text, const ArtifactRefs& refs, const RolloutPolicy& policy);
  Status rolloutChanged(const std::string& name, const RolloutPolicy& policy);
  Status promoted(const std::string& name);
  Status candidateGone(const std::string& name);

 private:
  DesiredState(std::string dir, const Env& env) : dir_(std::move(dir)), env_(&env) {}
  // Writes desired.json; on failure, back to what it held before (`undo`).
  Status save();
  // Forgets the changes since the last save and returns `failed`.
  Status undo(Status failed);
  [[nodiscard]] std::string refsPath(const std::string& name, const std::string& version) const;
  Status storeVersion(const std::string& name, const std::string& version, const std::string& text,
                      const ArtifactRefs& refs) const;

  std::string dir_;  // <data_dir>/control
  const Env* env_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::int64_t> sequences_;
  // What desired.json holds: restored when a change cannot be saved.
  std::map<std::string, Entry> saved_entries_;
  std::map<std::string, std::int64_t> saved_sequences_;
};

// {"min", "max", "targetConcurrency", "idleTimeoutMs", "prewarm"}: as kept, and as the API shows
// it.
nlohmann::json scalingJson(const ScalingPolicy& scaling);

}  // namespace sie::node
