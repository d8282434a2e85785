// Applies a path's privacy rules to an event on its way out: the JSON data (top-level fields and
// its "tags"), the event's tags (what topic templates expand), the subject (the sensor: Kafka
// key, ce-subject) and the event id (derived from the sensor) under the rules of `sensor`, and
// the event time under a `ts_ns` period. An
// event whose data is not a JSON object cannot be checked and is withheld.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "privacy/rule_set.h"
#include "sie/event.h"

namespace sie::privacy {

struct Filtered {
  std::optional<Event> event;  // nullopt: withheld
  std::string topic;           // the bus topic, the sensor replaced when its rule changed it
  std::string withheld;        // why, when withheld
  Applied applied;
};

Filtered filterEvent(const RuleSet& rules, std::string_view topic, const Event& event);

}  // namespace sie::privacy
