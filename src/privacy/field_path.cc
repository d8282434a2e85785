#include "privacy/field_path.h"

#include <array>

#include <fmt/format.h>

namespace sie::privacy {
namespace {

// The fields of a decision's data (node/actions.cc) and of a reading the API returns.
constexpr std::array<std::string_view, 10> kFields = {"sensor",   "ts_ns",   "value", "values",
                                                      "score",    "anomaly", "label", "detail",
                                                      "function", "version"};

}  // namespace

std::string_view knownFields() {
  return "sensor, ts_ns, value, values, score, anomaly, label, detail, function, version or "
         "tags.NAME";
}

Result<FieldPath> parseFieldPath(std::string_view text) {
  constexpr std::string_view kTags = "tags.";
  if (text.starts_with(kTags)) {
    const std::string_view tag = text.substr(kTags.size());
    if (tag.empty() || tag.find_first_of(". ") != std::string_view::npos) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("field '{}': name one tag after 'tags.', e.g. tags.badge", text));
    }
    return FieldPath{std::string(text), std::string(tag)};
  }
  for (const auto field : kFields) {
    if (text == field) return FieldPath{std::string(text), ""};
  }
  return fail(Errc::kInvalidArgument,
              fmt::format("unknown field '{}': a field is one of {} (a tag a source carries, "
                          "e.g. tags.badge for carry: [badge])",
                          text, knownFields()));
}

}  // namespace sie::privacy
