#include "core/placeholders.h"

namespace sie {

bool isPlaceholderNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

std::string expandPlaceholders(std::string_view text, const PlaceholderLookup& lookup) {
  std::string out;
  out.reserve(text.size() + 32);
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      std::size_t j = i + 1;
      while (j < text.size() && isPlaceholderNameChar(text[j])) ++j;
      if (j < text.size() && text[j] == '}' && j > i + 1) {
        if (auto value = lookup(text.substr(i + 1, j - i - 1))) {
          out += *value;
          i = j + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

std::optional<std::string_view> findTag(const Tags& tags, std::string_view name) {
  for (const auto& [key, value] : tags) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

}  // namespace sie
