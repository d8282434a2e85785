// Function manifests: Kubernetes-style YAML documents (apiVersion sie/v1, kind Function) parsed
// and validated into FunctionSpecs. Every error names file:line and the field, and says how to
// fix it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config_table.h"
#include "sie/function.h"
#include "sie/registry.h"
#include "sie/result.h"

namespace sie::node {

// A config file's name and text (read from disk, or embedded in the binary).
struct SourceText {
  std::string path;
  std::string text;
};

// The runtimes' own manifest blocks (spec.model, spec.process, ...), by runtime name.
using RuntimeSchemas = std::map<std::string, RuntimeSchema, std::less<>>;

// The blocks of the runtimes registered in `runtimes`.
RuntimeSchemas schemasOf(const Registry<std::shared_ptr<Executor>>& runtimes);

// Parses every document of one file (documents are separated by '---'). A runtime's own block is
// read by its schema in `runtimes`; a block of another runtime, or of none known, is an error.
Result<std::vector<FunctionSpec>> parseManifests(const SourceText& file,
                                                 const RuntimeSchemas& runtimes);

// Parses every *.yaml / *.yml file in `files`; rejects a name@version declared twice.
Result<std::vector<FunctionSpec>> parseManifestSet(const std::vector<SourceText>& files,
                                                   const RuntimeSchemas& runtimes);

// Reads every *.yaml / *.yml file directly in `dir`, sorted by name.
Result<std::vector<SourceText>> readYamlDir(const std::string& dir);

// Every block of a function manifest with its keys, for the generated reference (the runtimes'
// own blocks are theirs to describe).
std::vector<ConfigSection> manifestSections();

}  // namespace sie::node
