// MQTT topic templates: "plant/{line}/{asset}/{signal}" subscribes to "plant/+/+/+" and names
// the levels it matched, so they can build the sensor id, the output topic and the payload.
// "+" and a final "#" may be used as in MQTT filters; they match without a name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/placeholders.h"
#include "sie/event.h"
#include "sie/result.h"

namespace sie::mqtt {

class TopicTemplate {
 public:
  // Errors: an empty level name, '{' or '}' inside a level, a name used twice, '#' not last.
  static Result<TopicTemplate> parse(std::string_view text);

  // The subscription filter: each {name} level replaced by "+".
  [[nodiscard]] const std::string& filter() const { return filter_; }
  // Appends the named levels of `topic` to `out`; false (out untouched) when it does not match.
  bool match(std::string_view topic, Tags& out) const;

 private:
  std::string filter_;
  std::vector<std::string> levels_;  // "" for a named level, "+" or "#" or a literal otherwise
  std::vector<std::string> names_;   // per level: the name, or "" when unnamed
};

}  // namespace sie::mqtt
