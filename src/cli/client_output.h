// Pure text helpers of the client subcommands (deploy, fn, invoke, logs, scale, status): splitting
// manifest files, rendering the node's JSON as YAML, tables and "key: value" blocks, and wording
// the node's refusals. No I/O, so they are unit tested on their own.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sie::cli {

// Keeps the node's key order when printing its answers.
using Json = nlohmann::ordered_json;

// Block-style YAML of `value`, without a trailing newline. Strings that YAML would read back as
// something else (true, null, 1.5, 2024-01-01) are quoted, so the YAML means what the JSON meant.
std::string jsonToYaml(const Json& value);

// The member `key` of `object`, or null when `object` is not an object or lacks it. The node's
// answers are read through this, so a missing or odd field prints "-" instead of throwing.
const Json& member(const Json& object, const char* key);

// A value as a table cell: strings unquoted, null as "-", anything else as compact JSON.
std::string cellText(const Json& value);

// Columns padded to their widest cell (counted in UTF-8 code points), three spaces apart, one line
// per row with the header first; every line ends in '\n'. Short rows get empty cells.
std::string renderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// "Key:" labels padded to one column; a field with several lines continues them under the first.
// Fields without lines are left out.
using Field = std::pair<std::string, std::vector<std::string>>;
std::string renderFields(const std::vector<Field>& fields);

// What the node said when it refused a request, from its error JSON
// ({"error", "message", "field"?, "where"?}); a body that is not that becomes the message
// "HTTP 503: <start of the body>".
struct Refusal {
  std::string message;
  std::string field;
  std::string where;
};
Refusal parseRefusal(int status, std::string_view body);

// "message (field: X) at WHERE", leaving out the parts that are empty.
std::string refusalText(const Refusal& refusal);

// Maps a `where` from a refused deploy back into the user's file: the node parses each document as
// "request", so "request:3" of a document starting at line 20 of pump.yaml is "pump.yaml:22".
// An empty `where` names the document's first line; any other `where` is kept.
std::string documentWhere(std::string_view where, std::string_view file, int first_line);

// "3h 02m 05s", "4m 10s", "12s" (whole seconds; negative counts as 0).
std::string formatUptime(double seconds);

}  // namespace sie::cli
