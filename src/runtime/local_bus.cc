#include "runtime/local_bus.h"

#include <algorithm>
#include <mutex>

#include <spdlog/spdlog.h>

namespace sie::node {

std::uint64_t LocalBus::subscribe(std::string pattern, Handler handler) {
  auto parsed = TopicPattern::parse(pattern);
  if (!parsed) {
    // Patterns come from validated config; a bad one here is a bug in the caller.
    spdlog::error("bus: ignoring subscription: {}", parsed.error().str());
    return 0;
  }
  std::unique_lock lock(mu_);
  const std::uint64_t id = next_id_++;
  subscriptions_.push_back(std::make_shared<const Subscription>(
      Subscription{id, std::move(*parsed), std::move(handler)}));
  return id;
}

void LocalBus::unsubscribe(std::uint64_t id) {
  std::unique_lock lock(mu_);
  std::erase_if(subscriptions_, [id](const auto& s) { return s->id == id; });
}

void LocalBus::publish(std::string_view topic, const Event& event) {
  std::shared_lock lock(mu_);
  for (const auto& s : subscriptions_) {
    if (s->pattern.matches(topic)) s->handler(topic, event);
  }
}

}  // namespace sie::node

namespace sie::node {

bool LocalBus::hasSubscribers(std::string_view topic) const {
  std::shared_lock lock(mu_);
  return std::any_of(subscriptions_.begin(), subscriptions_.end(),
                     [&](const auto& s) { return s->pattern.matches(topic); });
}

}  // namespace sie::node
