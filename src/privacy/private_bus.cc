#include "privacy/private_bus.h"

#include <spdlog/spdlog.h>

#include "privacy/event_filter.h"

namespace sie::privacy {

PrivateBus::PrivateBus(Bus& inner, std::string sink, std::shared_ptr<const RuleSet> rules)
    : inner_(inner),
      sink_(std::move(sink)),
      rules_(std::move(rules)),
      withheld_(metrics().counter("sie_privacy_withheld_total",
                                  "Events a sink did not send because its privacy rules could "
                                  "not be applied to them",
                                  {{"sink", sink_}})),
      dropped_(metrics().counter("sie_privacy_fields_dropped_total",
                                 "Fields removed before export that no rule covered: personal "
                                 "fields without a rule, values generalize could not read",
                                 {{"sink", sink_}})) {}

std::uint64_t PrivateBus::subscribe(std::string pattern, Handler handler) {
  if (rules_->empty()) return inner_.subscribe(std::move(pattern), std::move(handler));
  return inner_.subscribe(std::move(pattern), [this, handler = std::move(handler)](
                                                  std::string_view topic, const Event& event) {
    deliver(handler, topic, event);
  });
}

void PrivateBus::deliver(const Handler& handler, std::string_view topic, const Event& event) {
  Filtered filtered = filterEvent(*rules_, topic, event);
  report(filtered.applied);
  if (!filtered.event) {
    withheld_.inc();
    spdlog::warn("privacy {}: event {} withheld: {}", sink_, event.id, filtered.withheld);
    return;
  }
  handler(filtered.topic, *filtered.event);
}

void PrivateBus::report(const Applied& applied) {
  const auto note = [&](const std::string& field, std::string_view why) {
    dropped_.inc();
    std::lock_guard lock(mu_);
    if (logged_.insert(field).second) {
      spdlog::warn(
          "privacy {}: field {} dropped before export: {} (counted in "
          "sie_privacy_fields_dropped_total; logged once)",
          sink_, field, why);
    }
  };
  for (const auto& field : applied.uncovered) {
    note(field, "it is personal (spec.privacy.personal) and the sink has no rule for it");
  }
  for (const auto& field : applied.unreadable) {
    note(field, "its value is not a number the generalize rule can read");
  }
}

}  // namespace sie::privacy
