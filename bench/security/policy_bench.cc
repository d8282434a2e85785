// The site policy's decision, as the request guard makes it for every call (security/policy.h):
//   BM_PolicyDecide/N      N rules like a plant's (SPIFFE ID patterns, token identities and
//                          roles; function and sensor resources; one rule in five a deny), asked
//                          by 16 callers in turn, allowed and refused; p50 / p99 over the
//                          iterations as counters. Target: p99 <= 5 us at 100 rules.
//   BM_PolicyDecideBuiltIn the built-in roles (a node without a policy file), for comparison.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "security/policy_file.h"

namespace {

using sie::http::ResourceKind;
using sie::security::Action;
using sie::security::Policy;
using sie::security::Resource;
using sie::security::Role;
using sie::security::Subject;

std::string plantPolicy(int rules) {
  std::string text = "apiVersion: sie/v1\nkind: Policy\nrules:\n";
  for (int i = 0; i < rules; ++i) {
    switch (i % 5) {
      case 0:
        text += fmt::format(
            "  - {{subjects: [\"spiffe://plant-a/client/team-{0}-*\"], actions: [deploy, "
            "delete], resources: [\"function:line{0}-*\"]}}\n",
            i);
        break;
      case 1:
        text += fmt::format(
            "  - {{subjects: [\"token:svc-{0}\"], actions: [invoke, scale], resources: "
            "[\"function:pump-{0}\", \"function:valve-{0}\"]}}\n",
            i);
        break;
      case 2:
        text += fmt::format(
            "  - {{subjects: [\"spiffe://plant-a/device/**/line-{0}/*\"], actions: [ingest], "
            "resources: [\"sensor:line-{0}/+/vibration\"]}}\n",
            i);
        break;
      case 3:
        text += fmt::format(
            "  - {{subjects: [role:operator, \"spiffe://plant-a/node/*\"], actions: [read, "
            "invoke], resources: [\"function:area{0}-*\"]}}\n",
            i);
        break;
      default:
        text += fmt::format(
            "  - {{subjects: [\"*\"], actions: [deploy, delete, rollout], resources: "
            "[\"function:interlock-{0}\"], effect: deny}}\n",
            i);
    }
  }
  return text;
}

struct Question {
  std::string subject;
  Role role;
  Action action;
  ResourceKind kind;
  std::string name;
};

// Callers of a plant, each asking something the policy allows or refuses; some match no rule at
// all (every rule for their action is looked at).
std::vector<Question> questions(int rules) {
  const int last = std::max(0, rules - 5);
  return {
      {"spiffe://plant-a/client/team-0-alice", Role::kDeployer, Action::kDeploy,
       ResourceKind::kFunction, "line0-press"},
      {fmt::format("spiffe://plant-a/client/team-{}-bob", last), Role::kDeployer, Action::kDeploy,
       ResourceKind::kFunction, fmt::format("line{}-oven", last)},
      {"spiffe://plant-a/client/team-0-alice", Role::kDeployer, Action::kDelete,
       ResourceKind::kFunction, "interlock-4"},
      {"spiffe://plant-a/client/mallory", Role::kViewer, Action::kDeploy, ResourceKind::kFunction,
       "pump-1"},
      {"token:svc-1", Role::kOperator, Action::kInvoke, ResourceKind::kFunction, "pump-1"},
      {fmt::format("token:svc-{}", last + 1), Role::kOperator, Action::kScale,
       ResourceKind::kFunction, fmt::format("valve-{}", last + 1)},
      {"token:svc-1", Role::kOperator, Action::kInvoke, ResourceKind::kFunction, "valve-2"},
      {"token:grafana", Role::kViewer, Action::kRead, ResourceKind::kNone, ""},
      {"spiffe://plant-a/device/hall-1/line-2/pump-7", Role::kDevice, Action::kIngest,
       ResourceKind::kSensor, ""},
      {fmt::format("spiffe://plant-a/device/hall-9/line-{}/fan-2", last + 2), Role::kDevice,
       Action::kIngest, ResourceKind::kSensor, ""},
      {"spiffe://plant-a/device/hall-1/line-x/pump-7", Role::kDevice, Action::kIngest,
       ResourceKind::kSensor, ""},
      {"spiffe://plant-a/node/edge-2", Role::kOperator, Action::kInvoke, ResourceKind::kFunction,
       "area3-cooling"},
      {"token:night-shift", Role::kOperator, Action::kRead, ResourceKind::kFunction,
       fmt::format("area{}-lights", last + 3)},
      {"token:night-shift", Role::kOperator, Action::kRollout, ResourceKind::kFunction,
       "area3-cooling"},
      {"token:bootstrap-admin", Role::kAdmin, Action::kAdmin, ResourceKind::kNone, ""},
      {"spiffe://plant-a/client/team-0-alice", Role::kDeployer, Action::kDeploy,
       ResourceKind::kFunction, ""},
  };
}

void decide(benchmark::State& state, const Policy& policy, const std::vector<Question>& asked) {
  std::vector<double> ns;
  ns.reserve(1 << 20);
  std::size_t i = 0;
  std::size_t allowed = 0;
  for (auto _ : state) {
    const Question& q = asked[i++ % asked.size()];
    const auto begin = std::chrono::steady_clock::now();
    const auto decision =
        policy.decide(Subject{q.subject, q.role}, q.action, Resource{q.kind, q.name});
    const auto end = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(decision);
    allowed += decision.allowed ? 1 : 0;
    if (ns.size() < ns.capacity())
      ns.push_back(std::chrono::duration<double, std::nano>(end - begin).count());
  }
  std::sort(ns.begin(), ns.end());
  state.counters["p50_us"] = ns[ns.size() / 2] / 1000;
  state.counters["p99_us"] = ns[ns.size() * 99 / 100] / 1000;
  state.counters["max_us"] = ns.back() / 1000;
  state.counters["allowed_pct"] =
      100.0 * static_cast<double>(allowed) / static_cast<double>(state.iterations());
}

void BM_PolicyDecide(benchmark::State& state) {
  const int rules = static_cast<int>(state.range(0));
  auto policy = sie::security::parsePolicy(plantPolicy(rules), "bench.yaml");
  if (!policy) {
    state.SkipWithError(policy.error().str().c_str());
    return;
  }
  decide(state, *policy, questions(rules));
}
BENCHMARK(BM_PolicyDecide)->Arg(10)->Arg(100)->Arg(1000);

void BM_PolicyDecideBuiltIn(benchmark::State& state) {
  decide(state, *sie::security::builtInPolicy(), questions(5));
}
BENCHMARK(BM_PolicyDecideBuiltIn);

}  // namespace

BENCHMARK_MAIN();
