// MQTT topic templates: "plant/{line}/{asset}/{signal}" subscribes to "plant/+/+/+" and names
// the levels it matched, so they can build the sensor id, the output topic and the payload.
// "+" and a final "#" may be used as in MQTT filters; they match without a name.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sie/event.h"
#include "sie/result.h"

namespace sie::mqtt {

class TopicTemplate {
 public:
  // Errors: an empty level name, '{' or '}' inside a level, a name used twice, '#' not last.
  static Result<TopicTemplate> parse(std::string_view text);

  // The subscription filter: each {name} level replaced by "+".
  [[nodiscard]] const std::string& filter() const { return filter_; }
  [[nodiscard]] const std::string& text() const { return text_; }
  // Appends the named levels of `topic` to `out`; false (out untouched) when it does not match.
  bool match(std::string_view topic, Tags& out) const;

 private:
  std::string text_;
  std::string filter_;
  std::vector<std::string> levels_;  // "" for a named level, "+" or "#" or a literal otherwise
  std::vector<std::string> names_;   // per level: the name, or "" when unnamed
};

// Expands "{name}" placeholders with `lookup`; a name it does not know stays as written, so JSON
// text ("{\"a\":1}") passes through unchanged. Names are letters, digits, '_', '-' and '.'.
std::string expandPlaceholders(
    std::string_view text,
    const std::function<std::optional<std::string_view>(std::string_view)>& lookup);

// A lookup over tags (the first tag of a name wins).
std::optional<std::string_view> findTag(const Tags& tags, std::string_view name);

}  // namespace sie::mqtt
