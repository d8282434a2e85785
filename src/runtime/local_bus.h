// LocalBus: the in-process implementation of sie::Bus.
#pragma once

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <vector>

#include "core/topic_pattern.h"
#include "sie/bus.h"

namespace sie::node {

class LocalBus final : public Bus {
 public:
  std::uint64_t subscribe(std::string pattern, Handler handler) override;
  void unsubscribe(std::uint64_t id) override;
  void publish(std::string_view topic, const Event& event) override;
  [[nodiscard]] bool hasSubscribers(std::string_view topic) const override;

 private:
  struct Subscription {
    std::uint64_t id;
    TopicPattern pattern;
    Handler handler;
  };
  mutable std::shared_mutex mu_;
  std::vector<std::shared_ptr<const Subscription>> subscriptions_;
  std::uint64_t next_id_ = 1;
};

}  // namespace sie::node
