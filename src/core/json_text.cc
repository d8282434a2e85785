#include "core/json_text.h"

#include <fmt/format.h>

namespace sie {
namespace {

// Byte offset of the first array or object opened past `max_depth`, or npos. Brackets inside
// strings do not count; the scan is linear and keeps no stack.
std::size_t tooDeepAt(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace

Result<nlohmann::json> parseJson(std::string_view text, std::size_t max_depth) {
  if (const std::size_t at = tooDeepAt(text, max_depth); at != std::string_view::npos) {
    return fail(Errc::kInvalidArgument,
                fmt::format("JSON nested deeper than {} levels (at byte {})", max_depth, at));
  }
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail(Errc::kInvalidArgument, "not valid JSON");
  return doc;
}

nlohmann::json parseJsonOrDiscarded(std::string_view text, std::size_t max_depth) {
  auto doc = parseJson(text, max_depth);
  return doc ? std::move(*doc) : nlohmann::json(nlohmann::json::value_t::discarded);
}

}  // namespace sie
