// The manifest blocks of every runtime compiled in, for tests that read manifests without a node.
#pragma once

#include <cstdlib>

#include "config/function_manifest.h"
#include "sie/plugins.h"

namespace sie::testing {

inline const node::RuntimeSchemas& runtimeSchemas() {
  static const node::RuntimeSchemas schemas = [] {
    Plugins plugins;
    if (!registerBuiltinPlugins(plugins)) std::abort();
    return node::schemasOf(plugins.runtimes);
  }();
  return schemas;
}

}  // namespace sie::testing
