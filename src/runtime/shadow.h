// Shadow: a candidate version that sees mirrored traffic. The serving version acts on every event
// as usual; each event and the decision it made are queued here, and a thread of the shadow's own
// asks the candidate for its decision on the same event — never acting on it — and compares:
// agreement on the anomaly verdict and the label, the score difference, the candidate's latency
// and failures. The queue is bounded: when the candidate falls behind, mirrored events are dropped
// (counted), so a slow candidate never slows the serving path.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/function_runner.h"
#include "runtime/version_stats.h"

namespace sie::node {

class Shadow {
 public:
  static constexpr std::size_t kQueue = 1024;

  explicit Shadow(std::shared_ptr<FunctionRunner> candidate);
  ~Shadow();
  Shadow(const Shadow&) = delete;
  Shadow& operator=(const Shadow&) = delete;

  // Queues copies of the events the serving version decided, with its decisions.
  void mirror(std::span<const Event* const> events,
              std::span<const std::optional<Decision>> decisions);
  // {compared, agreed, agreement, meanScoreDelta, maxScoreDelta, dropped, candidate: {...}}.
  [[nodiscard]] nlohmann::json report() const;
  // The candidate's failures and latency in the shadow, for the rollout objectives.
  [[nodiscard]] VersionStats::Snapshot candidateStats() const { return stats_.snapshot(); }

 private:
  struct Item {
    Event event;
    std::optional<Decision> serving;
  };
  void run();

  std::shared_ptr<FunctionRunner> candidate_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::uint64_t compared_ = 0;
  std::uint64_t agreed_ = 0;
  std::uint64_t dropped_ = 0;
  double score_delta_sum_ = 0;
  double score_delta_max_ = 0;
  VersionStats stats_;
  std::thread thread_;
};

}  // namespace sie::node
