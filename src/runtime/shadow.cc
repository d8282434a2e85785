#include "runtime/shadow.h"

#include <cmath>

#include "sie/clock.h"

namespace sie::node {

Shadow::Shadow(std::shared_ptr<FunctionRunner> candidate)
    : candidate_(std::move(candidate)), thread_([this] { run(); }) {}

Shadow::~Shadow() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Shadow::mirror(std::span<const Event* const> events,
                    std::span<const std::optional<Decision>> decisions) {
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (!decisions[i]) continue;  // nothing to compare with (skipped or failed)
      if (queue_.size() >= kQueue) {
        ++dropped_;
        continue;
      }
      queue_.push_back({*events[i], decisions[i]});
    }
  }
  wake_.notify_one();
}

void Shadow::run() {
  for (;;) {
    Item item;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    const std::int64_t begin = monotonicNs();
    auto decision = candidate_->evaluate(item.event);
    stats_.record(monotonicNs() - begin, !decision);
    if (!decision || !*decision) continue;
    const Decision& mine = **decision;
    const Decision& theirs = *item.serving;
    const double delta = std::abs(mine.score - theirs.score);
    std::lock_guard lock(mu_);
    ++compared_;
    if (mine.anomaly == theirs.anomaly && mine.label == theirs.label) ++agreed_;
    if (std::isfinite(delta)) {
      score_delta_sum_ += delta;
      score_delta_max_ = std::max(score_delta_max_, delta);
    }
  }
}

nlohmann::json Shadow::report() const {
  const VersionStats::Snapshot s = stats_.snapshot();
  std::lock_guard lock(mu_);
  return {
      {"compared", compared_},
      {"agreed", agreed_},
      {"agreement",
       compared_ == 0 ? 0.0 : static_cast<double>(agreed_) / static_cast<double>(compared_)},
      {"meanScoreDelta", compared_ == 0 ? 0.0 : score_delta_sum_ / static_cast<double>(compared_)},
      {"maxScoreDelta", score_delta_max_},
      {"dropped", dropped_},
      {"queued", queue_.size()},
      {"candidate",
       {{"invocations", s.invocations},
        {"errors", s.errors},
        {"p50Ms", s.p50_ms},
        {"p99Ms", s.p99_ms}}}};
}

}  // namespace sie::node
