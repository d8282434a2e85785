// The configuration reference, made from the tables the loaders check configuration against:
// every key of the site file, the function manifest and each plugin compiled in, with its type,
// default, allowed values and meaning. `sie plugins` prints it; docs/PLUGINS.md is its Markdown.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config_table.h"
#include "sie/plugins.h"
#include "sie/result.h"

namespace sie::node {

// One line per plugin: kind, name, description.
std::string listPlugins(const Plugins& plugins);

// The keys of every plugin called `name` (a source and a sink may share one; a runtime's are its
// manifest block). kNotFound names the plugins there are.
Result<std::string> describePlugin(const Plugins& plugins, std::string_view name);

// Every configuration table: the site file's, the manifest's (each runtime's block included) and
// each plugin's.
std::vector<ConfigSection> configSections(const Plugins& plugins);

// The whole reference as Markdown (docs/PLUGINS.md).
std::string referenceMarkdown(const Plugins& plugins);

}  // namespace sie::node
