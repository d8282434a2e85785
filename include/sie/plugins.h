// The plugin registries a node is assembled from. Plugins are linked statically (each behind a
// CMake option) and register themselves explicitly in registerBuiltinPlugins(), so nothing depends
// on static-initialization order.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sie/config.h"
#include "sie/function.h"
#include "sie/registry.h"
#include "sie/result.h"
#include "sie/sink.h"
#include "sie/source.h"

namespace sie {

struct SourcePlugin {
  std::string description;
  std::vector<ConfigKey> keys;  // the config table, checked before make() is called
  std::function<Result<std::unique_ptr<Source>>(const std::string& name,
                                                const ConfigValues& config)>
      make;
};

struct SinkPlugin {
  std::string description;
  std::vector<ConfigKey> keys;
  std::function<Result<std::unique_ptr<Sink>>(const std::string& name, const ConfigValues& config)>
      make;
};

struct Plugins {
  Registry<SourcePlugin> sources{"source type"};
  Registry<SinkPlugin> sinks{"sink type"};
  Registry<std::shared_ptr<Executor>> runtimes{"runtime"};
};

// Registers every plugin compiled into this binary.
Status registerBuiltinPlugins(Plugins& plugins);

}  // namespace sie
