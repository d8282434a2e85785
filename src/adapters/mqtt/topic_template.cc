#include "adapters/mqtt/topic_template.h"

#include <fmt/format.h>

namespace sie::mqtt {

Result<TopicTemplate> TopicTemplate::parse(std::string_view text) {
  const auto bad = [&](std::string why) {
    return fail(Errc::kInvalidArgument,
                fmt::format("topic template '{}': {}", text, std::move(why)), "topic");
  };
  if (text.empty()) return bad("is empty");
  TopicTemplate out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find('/', start);
    const std::string_view level =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    const bool last = end == std::string_view::npos;
    if (level.size() >= 2 && level.front() == '{' && level.back() == '}') {
      const std::string_view name = level.substr(1, level.size() - 2);
      if (name.empty()) return bad("a level name is empty ('{}')");
      for (char c : name) {
        if (!isPlaceholderNameChar(c)) {
          return bad(
              fmt::format("level name '{}' may use only letters, digits, '_', '-', '.'", name));
        }
      }
      for (const auto& other : out.names_) {
        if (other == name) return bad(fmt::format("level name '{}' is used twice", name));
      }
      out.levels_.emplace_back();
      out.names_.emplace_back(name);
      out.filter_ += '+';
    } else {
      if (level.find_first_of("{}") != std::string_view::npos) {
        return bad(fmt::format("level '{}' mixes braces with text; write a whole level as {{name}}",
                               level));
      }
      if (level == "#" && !last) return bad("'#' must be the last level");
      if (level.size() > 1 && level.find_first_of("+#") != std::string_view::npos) {
        return bad(fmt::format("level '{}' mixes a wildcard with text", level));
      }
      out.levels_.emplace_back(level);
      out.names_.emplace_back();
      out.filter_ += level;
    }
    if (last) break;
    out.filter_ += '/';
    start = end + 1;
  }
  return out;
}

bool TopicTemplate::match(std::string_view topic, Tags& out) const {
  const std::size_t mark = out.size();
  std::size_t start = 0;
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    if (levels_[i] == "#") return true;  // matches the rest, including nothing
    if (start > topic.size()) break;
    const std::size_t end = topic.find('/', start);
    const std::string_view level =
        topic.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (names_[i].empty()) {
      if (levels_[i] != "+" && levels_[i] != level) break;
    } else {
      out.emplace_back(names_[i], level);
    }
    const bool topic_done = end == std::string_view::npos;
    if (i + 1 == levels_.size()) {
      if (topic_done) return true;
      break;
    }
    if (topic_done) {
      // "a/#" also matches "a": only a trailing '#' may be left.
      if (i + 2 == levels_.size() && levels_[i + 1] == "#") return true;
      break;
    }
    start = end + 1;
  }
  out.resize(mark);
  return false;
}

}  // namespace sie::mqtt
