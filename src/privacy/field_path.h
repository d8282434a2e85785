// The fields privacy rules and the personal list name: a field of a decision's JSON data
// (sensor, ts_ns, value, ...) or a tag the reading carried (tags.NAME: topic levels, and payload
// fields a source was told to carry). A tag is the same field wherever it travels: in the data's
// "tags" object, in the event's tags, in a topic template's {NAME}.
#pragma once

#include <string>
#include <string_view>

#include "sie/result.h"

namespace sie::privacy {

struct FieldPath {
  std::string text;  // as written: "tags.badge", "value"
  std::string tag;   // "badge" for tags.badge; "" for a data field

  [[nodiscard]] bool isTag() const { return !tag.empty(); }
};

// The data fields a path may name besides tags.NAME, for messages.
std::string_view knownFields();

// Refuses a field no event or reading has, with the list of those there are.
Result<FieldPath> parseFieldPath(std::string_view text);

}  // namespace sie::privacy
