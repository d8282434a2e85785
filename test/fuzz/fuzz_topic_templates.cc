// libFuzzer target: topic templates and placeholders. The input is a template, a newline and a
// topic. A template that parses (mqtt::TopicTemplate) must subscribe with a filter that parses
// (TopicPattern) and match exactly the topics its filter matches, naming each level it matched;
// placeholder expansion (expandPlaceholders, and the node's action templates) must leave text
// without known names as written and put each named level's value in its place.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/mqtt/topic_template.h"
#include "core/placeholders.h"
#include "core/topic_pattern.h"
#include "runtime/actions.h"

namespace {

void check(bool holds) {
  if (!holds) std::abort();
}

std::optional<std::string_view> unknown(std::string_view /*name*/) { return std::nullopt; }

void checkTemplate(std::string_view text, std::string_view topic) {
  auto parsed = sie::mqtt::TopicTemplate::parse(text);
  if (!parsed) {
    check(!parsed.error().message.empty());
    return;
  }
  auto filter = sie::TopicPattern::parse(parsed->filter());
  check(filter.has_value());
  sie::Tags tags;
  const bool matched = parsed->match(topic, tags);
  check(matched == filter->matches(topic));
  if (!matched) {
    check(tags.empty());
    return;
  }
  for (const auto& [name, level] : tags) {
    // Each named level is one level of the topic, and expands back to itself.
    check(level.find('/') == std::string::npos);
    const std::string placeholder = "{" + name + "}";
    const auto lookup = [&](std::string_view n) { return sie::findTag(tags, n); };
    check(sie::expandPlaceholders(placeholder, lookup) == *sie::findTag(tags, name));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = input.find('\n');
  const std::string_view text = input.substr(0, cut);
  const std::string_view topic = cut == std::string_view::npos ? "" : input.substr(cut + 1);
  checkTemplate(text, topic);
  auto pattern = sie::TopicPattern::parse(text);
  if (pattern) (void)pattern->matches(topic);

  check(sie::expandPlaceholders(input, unknown) == input);
  // Text without a placeholder passes through the node's action templates unchanged.
  const std::string expanded = sie::node::expandTemplate(text, "grid/f1/voltage", "volts");
  if (text.find('{') == std::string_view::npos) check(expanded == text);
  return 0;
}
