// The one splitter of multi-document YAML text, used by the node's manifest parser and by the
// CLI (which sends each document of `sie deploy -f FILE` on its own), so both see the same
// documents. yaml-cpp's LoadAll is not used: it can loop forever on some malformed input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sie {

struct YamlDocument {
  std::string text;
  int first_line = 1;  // 1-based line of text's first line in the whole text
};

// Splits at document markers: lines that start with `---` followed by nothing, a blank, a tab or
// a CR (`---`, `--- # note`, `---\r`). What follows the marker on its line ("# note", "!tag",
// "{a: 1}") stays as the document's first line, unless it is blank. Every document is kept, empty
// ones too (hasYamlContent tells).
std::vector<YamlDocument> splitYamlDocuments(std::string_view text);

// Whether a document holds anything but blank lines, comments and `...` end markers.
bool hasYamlContent(std::string_view text);

}  // namespace sie
