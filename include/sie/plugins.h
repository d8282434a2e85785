// The plugin registries a node is assembled from. Plugins are linked statically (each behind a
// CMake option) and register themselves explicitly in registerBuiltinPlugins(), so nothing depends
// on static-initialization order.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sie/audit_seal.h"
#include "sie/clock.h"
#include "sie/config.h"
#include "sie/function.h"
#include "sie/registry.h"
#include "sie/result.h"
#include "sie/sink.h"
#include "sie/source.h"
#include "sie/state.h"

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

// What every state backend gets from the site's spec.state block.
struct StateOptions {
  std::string site;      // metadata.name
  std::string data_dir;  // node-local files (the audit chain lives here for every backend)
  std::chrono::milliseconds batch_interval{20};
  std::size_t memory_window = 2048;
  const Clock* clock = nullptr;
  std::optional<AuditSealOptions> audit_seal;  // how the audit chain is signed, exported, pruned
};

struct StatePlugin {
  std::string description;
  std::vector<ConfigKey> keys;  // the table of spec.state.<backend>, checked before make()
  std::function<Result<std::unique_ptr<StateStore>>(const StateOptions& options,
                                                    const ConfigValues& config)>
      make;
};

struct Plugins {
  Registry<SourcePlugin> sources{"source type"};
  Registry<SinkPlugin> sinks{"sink type"};
  Registry<StatePlugin> states{"state backend"};
  Registry<std::shared_ptr<Executor>> runtimes{"runtime"};
};

// Registers every plugin compiled into this binary.
Status registerBuiltinPlugins(Plugins& plugins);

}  // namespace sie
