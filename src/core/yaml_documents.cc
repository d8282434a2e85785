#include "core/yaml_documents.h"

namespace sie {
namespace {

// Calls `each(line, number)` for every line (without its '\n'), numbered from 1.
template <typename Each>
void forEachLine(std::string_view text, Each each) {
  std::size_t start = 0;
  for (int number = 1; start < text.size(); ++number) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    each(text.substr(start, end - start), number);
    start = end + 1;
  }
}

bool isMarker(std::string_view line) {
  return line.starts_with("---") &&
         (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

}  // namespace

std::vector<YamlDocument> splitYamlDocuments(std::string_view text) {
  std::vector<YamlDocument> docs(1);
  forEachLine(text, [&](std::string_view line, int number) {
    if (!isMarker(line)) {
      docs.back().text.append(line).push_back('\n');
      return;
    }
    const std::string_view rest = line.substr(3);
    if (rest.find_first_not_of(" \t\r") == std::string_view::npos) {
      docs.push_back({"", number + 1});
    } else {
      docs.push_back({std::string(rest) + "\n", number});
    }
  });
  if (docs.size() == 1 && docs.front().text.empty()) docs.clear();
  return docs;
}

bool hasYamlContent(std::string_view text) {
  bool content = false;
  forEachLine(text, [&](std::string_view line, int) {
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') return;
    const std::string_view rest = line.substr(first);
    if (rest.substr(0, rest.find_last_not_of(" \t\r") + 1) != "...") content = true;
  });
  return content;
}

}  // namespace sie
