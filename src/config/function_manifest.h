// Function manifests: Kubernetes-style YAML documents (apiVersion sie/v1, kind Function) parsed
// and validated into FunctionSpecs. Every error names file:line and the field, and says how to
// fix it.
#pragma once

#include <string>
#include <vector>

#include "core/config_table.h"
#include "sie/function.h"
#include "sie/result.h"

namespace sie::node {

// A config file's name and text (read from disk, or embedded in the binary).
struct SourceText {
  std::string path;
  std::string text;
};

// Parses every document of one file (documents are separated by '---').
Result<std::vector<FunctionSpec>> parseManifests(const SourceText& file);

// Parses every *.yaml / *.yml file in `files`; rejects a name@version declared twice.
Result<std::vector<FunctionSpec>> parseManifestSet(const std::vector<SourceText>& files);

// Reads every *.yaml / *.yml file directly in `dir`, sorted by name.
Result<std::vector<SourceText>> readYamlDir(const std::string& dir);

// Every block of a function manifest with its keys, for the generated reference.
std::vector<ConfigSection> manifestSections();

}  // namespace sie::node
