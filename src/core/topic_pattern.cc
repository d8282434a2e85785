#include "core/topic_pattern.h"

namespace sie {

Result<TopicPattern> TopicPattern::parse(std::string_view pattern) {
  if (pattern.empty()) return fail(Errc::kInvalidArgument, "topic pattern is empty");
  TopicPattern p;
  p.text_ = std::string(pattern);
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = pattern.find('/', start);
    const std::string_view level =
        pattern.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (level.size() > 1 && (level.find('+') != std::string_view::npos ||
                             level.find('#') != std::string_view::npos)) {
      return fail(Errc::kInvalidArgument, "topic pattern '" + p.text_ + "': wildcard '" +
                                              std::string(level) +
                                              "' must fill a whole level (use '+' or '#')");
    }
    if (level == "#" && slash != std::string_view::npos) {
      return fail(Errc::kInvalidArgument,
                  "topic pattern '" + p.text_ + "': '#' may only be the last level");
    }
    p.levels_.emplace_back(level);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return p;
}

bool TopicPattern::matches(std::string_view topic) const {
  std::size_t pos = 0;
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    const std::string& want = levels_[i];
    if (want == "#") return true;
    if (pos > topic.size()) return false;
    const std::size_t slash = topic.find('/', pos);
    const std::size_t end = slash == std::string_view::npos ? topic.size() : slash;
    if (want != "+" && topic.substr(pos, end - pos) != want) return false;
    const bool last_pattern_level = i + 1 == levels_.size();
    if (slash == std::string_view::npos) {
      // Topic ended: matches if the pattern ends too, or continues with a lone '#'.
      return last_pattern_level || (i + 2 == levels_.size() && levels_[i + 1] == "#");
    }
    if (last_pattern_level) return false;
    pos = slash + 1;
  }
  return false;
}

}  // namespace sie
