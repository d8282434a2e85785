// MQTT-style topic patterns: levels split by '/', '+' matches one level, '#' (last) matches the
// rest, including nothing ("a/#" matches "a").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sie/result.h"

namespace sie {

class TopicPattern {
 public:
  // Rejects '#' not at the end, and wildcards mixed into a level ("a+/b").
  static Result<TopicPattern> parse(std::string_view pattern);

  [[nodiscard]] bool matches(std::string_view topic) const;
  [[nodiscard]] const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<std::string> levels_;
};

}  // namespace sie
