// Checks a YAML block against a component's ConfigKey table.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "sie/config.h"

namespace sie {

// "file:line" of a YAML node (line is 1-based), or just the file when the node has no mark.
std::string yamlWhere(std::string_view file, const YAML::Node& node);

// Reads `block` (a map) against `table`. Keys in `ignored` are handled by the caller (e.g. name,
// type). Unknown keys, wrong types, values outside a key's range or choices and missing required
// keys are errors naming file:line and the key, as `path`.key when the block has a path
// ("spec.model").
Result<ConfigValues> readConfig(const YAML::Node& block, std::span<const ConfigKey> table,
                                std::string_view file,
                                std::span<const std::string_view> ignored = {},
                                std::string_view path = {});

// Every default of `table` (and of its list-of-maps tables) checked as if a user had written it:
// a default outside its own key's limits is a mistake in the table.
Status checkDefaults(std::span<const ConfigKey> table);

// One line per key: "name (type, default X): description", for --help and generated docs.
std::string describeConfig(std::span<const ConfigKey> table);

// A named block of a configuration file and its table, for the generated reference.
struct ConfigSection {
  std::string path;  // "spec.scaling", "spec.model (runtime: onnx)"
  std::span<const ConfigKey> keys;
};

// The table as Markdown: one row per key (key, type, default, allowed values, meaning); a
// list-of-maps key's fields follow as "key[].field" rows.
std::string markdownConfig(std::span<const ConfigKey> table, std::string_view prefix = "");

}  // namespace sie
