// FunctionTable: the functions a node serves, changed while events flow (the control API).
//
// One slot per function name holds a dispatcher target and the runner of the version serving it.
// Deploying builds and validates the new runner and, once the node runs, warms it (scaling.min
// instances) before the slot switches over, so events never reach a half-deployed function and a
// deploy that fails leaves the old version serving. A replaced or deleted runner is retired: its
// idle instances stop at once, it finishes what it has in flight, and tick() destroys it once no
// event holds it. Deleting first routes nothing new to the function and lets its queue drain.
//
// A slot may also hold a candidate version in a rollout (rollout_policy.h): a canary share of
// the sensors, a shadow that sees mirrored events, or a warm blue-green standby. promote() makes
// it the serving version at once; tick() rolls it back when it breaches its objectives.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exec/process/dapr_api.h"
#include "gateway/router.h"
#include "runtime/actions.h"
#include "runtime/dispatcher.h"
#include "runtime/function_runner.h"
#include "runtime/rollout_policy.h"
#include "runtime/shadow.h"
#include "runtime/version_stats.h"
#include "sie/bus.h"
#include "sie/clock.h"
#include "sie/plugins.h"
#include "sie/state.h"

namespace sie::node {

// A rollout as the API shows it.
struct RolloutStatus {
  std::string serving;    // name@version
  std::string candidate;  // name@version
  RolloutPolicy policy;
  VersionStats::Snapshot serving_stats;
  VersionStats::Snapshot candidate_stats;
  nlohmann::json shadow;  // Shadow::report(), null unless shadowing
};

struct DeployOutcome {
  std::string id;        // name@version now serving
  std::string previous;  // the id it replaced; "" when the name is new
};

class FunctionTable {
 public:
  FunctionTable(Dispatcher& dispatcher, gateway::Router& router, StateStore& state,
                Actions& actions, Bus& bus, const Registry<std::shared_ptr<Executor>>& runtimes,
                const Clock& clock);
  ~FunctionTable();
  FunctionTable(const FunctionTable&) = delete;
  FunctionTable& operator=(const FunctionTable&) = delete;

  // Validates the spec with its runtime and makes it serve its name (replacing the version there).
  // Escalation targets must exist unless `check_escalation` is false (a site loading all at once;
  // checkEscalations() runs after). After start(), the runner is warmed before it serves.
  Result<DeployOutcome> deploy(FunctionSpec spec, bool check_escalation = true);
  // Stops routing to the function, waits up to `drain` for its queued events, then retires it.
  Status remove(const std::string& name, std::chrono::milliseconds drain = std::chrono::seconds(5));
  Status scale(const std::string& name, const ScalingPolicy& scaling);

  // Deploys `spec` beside the serving version of its name as the rollout's candidate (replacing
  // an earlier candidate). Something must serve the name.
  Result<DeployOutcome> deployCandidate(FunctionSpec spec, const RolloutPolicy& policy);
  // A new strategy, weight or objectives for the running rollout.
  Status setRollout(const std::string& name, const RolloutPolicy& policy);
  // The candidate serves from now on; returns its version.
  Result<std::string> promote(const std::string& name);
  // Retires the candidate; returns its version.
  Result<std::string> abortRollout(const std::string& name);
  [[nodiscard]] std::optional<RolloutStatus> rollout(const std::string& name) const;
  // Called (on the scaler's thread) after tick() rolled a candidate back.
  using RollbackHook = std::function<void(const std::string& name, const std::string& version,
                                          const std::string& reason)>;
  void onRollback(RollbackHook hook) { on_rollback_ = std::move(hook); }
  // The runtimes functions run on (their schemas read the manifests).
  [[nodiscard]] const Registry<std::shared_ptr<Executor>>& runtimes() const { return runtimes_; }
  // Every spec.escalate.to names a function in the table.
  [[nodiscard]] Status checkEscalations() const;
  // The other functions (serving versions and rollout candidates) that escalate to `name`.
  [[nodiscard]] std::vector<std::string> escalatingTo(const std::string& name) const;

  // Warms every runner (scaling.min instances); later deploys warm before they serve.
  Status start();
  // Scaler period: ticks every serving pool and destroys retired runners no event holds.
  void tick();
  // Node stop, after the dispatcher stopped: escalations end, workers exit, Dapr APIs close.
  void stop();

  // The serving runners, by name.
  [[nodiscard]] std::vector<std::shared_ptr<FunctionRunner>> runners() const;
  [[nodiscard]] std::shared_ptr<FunctionRunner> find(const std::string& name) const;
  // The decision of the function serving `name`, without acting (escalations).
  Result<std::optional<Decision>> evaluate(const std::string& name, const Event& event) const;

 private:
  struct Slot {
    std::string name;
    std::uint32_t target = 0;
    std::shared_ptr<FunctionRunner> runner;     // null: deleted; guarded by the table's mu_
    std::shared_ptr<FunctionRunner> candidate;  // in a rollout
    RolloutPolicy policy;
    std::shared_ptr<Shadow> shadow;  // with the shadow strategy
    std::unique_ptr<DaprApi> dapr;   // for process functions with spec.process.dapr
    std::vector<std::string> triggers;
  };
  Result<Slot*> slotFor(const std::string& name, const FunctionSpec& spec);
  Handled handle(Slot& slot, std::span<const Event* const> events, int failures);
  // Rebuilds the router's triggers from the serving slots. Under mu_.
  Status route();
  // The dispatcher's policy for a slot's current versions (micro-batches, running inline);
  // under mu_, after its runner or candidate changed.
  void applyDispatch(const Slot& slot);
  void retire(std::shared_ptr<FunctionRunner> runner);
  // Builds a runner for `spec` (validation, Dapr, escalation) and warms it once the node runs.
  Result<std::shared_ptr<FunctionRunner>> build(Slot& slot, FunctionSpec spec,
                                                bool check_escalation);
  // The objectives of a running rollout: the reason to roll back, or "".
  static std::string breach(const Slot& slot);
  Dispatcher& dispatcher_;
  gateway::Router& router_;
  StateStore& state_;
  Actions& actions_;
  Bus& bus_;
  Registry<std::shared_ptr<Executor>> runtimes_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Slot>, std::less<>> slots_;  // never erased
  std::vector<std::shared_ptr<FunctionRunner>> retired_;
  std::mutex deploy_mu_;  // one deploy or delete at a time
  bool started_ = false;
  RollbackHook on_rollback_;
};

}  // namespace sie::node
