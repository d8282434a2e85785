#include "privacy/event_filter.h"

#include "core/json_text.h"

namespace sie::privacy {
namespace {

// Every occurrence of `from` in `text` replaced by `to`.
std::string replaceAll(std::string text, std::string_view from, std::string_view to) {
  if (from.empty()) return text;
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

Filtered filterEvent(const RuleSet& rules, std::string_view topic, const Event& event) {
  Filtered out;
  out.topic = std::string(topic);
  if (rules.empty()) {
    out.event = event;
    return out;
  }
  Event copy = event;
  if (!copy.data.empty()) {
    auto doc = parseJsonOrDiscarded(copy.data);
    if (!doc.is_object()) {
      out.withheld = "its data is not a JSON object, so the privacy rules cannot be applied to it";
      return out;
    }
    rules.apply(doc, out.applied);
    copy.data = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  // Sinks read the reading's tags when the event carries its telemetry; one set of tags is kept,
  // filtered, and the raw reading does not travel further.
  if (copy.telemetry) {
    if (copy.tags.empty()) copy.tags = std::move(copy.telemetry->tags);
    copy.telemetry.reset();
  }
  rules.apply(copy.tags, out.applied);
  if (!copy.subject.empty()) {
    auto subject = rules.applyText("sensor", copy.subject, out.applied);
    const std::string replaced = subject ? *subject : std::string("_");
    if (replaced != copy.subject) {
      out.topic = replaceAll(std::move(out.topic), copy.subject, replaced);
      copy.subject = subject ? std::move(*subject) : std::string();
    }
  }
  // A decision's id is a plain hash over its sensor and time (node/actions.h): one could test
  // guessed sensor ids against it, so it is re-keyed too; the same id still maps to the same one.
  if (rules.ruleFor("sensor") && !copy.id.empty()) {
    if (auto keyed = rules.pseudonym(copy.id, 32)) copy.id = copy.id.substr(0, 2) + *keyed;
  }
  if (const Rule* rule = rules.ruleFor("ts_ns"); rule && rule->period_ns > 0) {
    if (auto time = generalize(*rule, nlohmann::json(copy.time_ns))) {
      copy.time_ns = time->get<std::int64_t>();
    }
  }
  out.event = std::move(copy);
  return out;
}

}  // namespace sie::privacy
